mod integration {
    mod egress;
    mod shared_buckets;
    mod signature_fidelity;
    mod support;
}
