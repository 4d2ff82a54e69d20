mod integration {
    mod egress;
    mod signature_fidelity;
    mod support;
}
