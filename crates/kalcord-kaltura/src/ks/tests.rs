//! The spec's worked vectors (generated with Kaltura's official Python client), byte for byte.

use super::{KsError, KsSpec, KsVersion, Minter, Privileges, SessionType, decode, mint_v1, mint_v2, peek_partner};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const V1: &str = "ZDcxZGQyM2FiYzRmZjE3MWQwYTU1NjVkOGQ4ZTI3ODBmN2E4ZWMyY3wxMjM0NTY3OzEyMzQ1Njc7MTcwMDA4NjQwMDswOzQyNDI7ZGlzY29yZC0xMTExO2V2ZW50SWQ6MzM3MTAxMSxyb2xlOnZpZXdlclJvbGUsdXNlckNvbnRleHR1YWxSb2xlOjMsZmlyc3ROYW1lOk1heA==";
const V2: &str = "djJ8MTIzNDU2N3wnryUClErTGiIW_brGPVhZaUhn67PbiV4TE2y1Fa9U05XKfZk27IcVkV2tAOmZ0A4pUxLGkHPFDiOmSF4Wphr97fJxoF4Z0clhEQJvsmYoGLVQx7781X8G9htVIVoZKPlUuGMsitxqlRs0DI-u2dDNMw5gOGC4Ju_d8aM_0O6jkUoEW_bsKMTaEooZ5mr5tZA=";

fn privileges() -> Privileges {
    Privileges::parse("eventId:3371011,role:viewerRole,userContextualRole:3,firstName:Max")
}

fn spec(privileges: &Privileges) -> KsSpec<'_> {
    KsSpec {
        expiry: 1_700_086_400,
        partner_id: 1_234_567,
        privileges,
        session_type: SessionType::User,
        user_id: "discord-1111",
    }
}

#[test]
fn v1_vector_is_reproduced_byte_for_byte() {
    let privileges = privileges();
    assert_eq!(mint_v1(SECRET, &spec(&privileges), 4242), V1);
}

#[test]
fn v2_vector_is_reproduced_byte_for_byte() {
    let privileges = privileges();
    let rand: [u8; 16] = std::array::from_fn(|i| u8::try_from(i).unwrap());
    assert_eq!(mint_v2(SECRET, &spec(&privileges), rand), V2);
}

#[test]
fn vectors_decode_to_their_fields() {
    for (ks, version) in [(V1, KsVersion::V1), (V2, KsVersion::V2)] {
        let decoded = decode(ks, &[SECRET]).unwrap();
        assert_eq!(decoded.version, version);
        assert_eq!(decoded.partner_id, 1_234_567);
        assert_eq!(decoded.user_id, "discord-1111");
        assert_eq!(decoded.session_type, SessionType::User);
        assert_eq!(decoded.expiry, 1_700_086_400);
        assert_eq!(decoded.privileges, privileges());
        assert_eq!(peek_partner(ks), Ok(1_234_567));
        assert_eq!(decoded.check(1_700_000_000), Ok(()));
        assert_eq!(decoded.check(1_700_086_400), Err(KsError::Expired), "expiry <= now is expired");
    }
}

#[test]
fn any_of_several_admin_secrets_verifies() {
    assert!(decode(V2, &["other", SECRET]).is_ok());
    assert!(decode(V1, &["other", SECRET]).is_ok());
}

#[test]
fn wrong_secret_tampering_and_junk_are_invalid_str() {
    assert_eq!(decode(V2, &["not the secret"]), Err(KsError::InvalidStr));
    assert_eq!(decode(V1, &["not the secret"]), Err(KsError::InvalidStr));
    let mut tampered = V2.as_bytes().to_vec();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    assert_eq!(decode(std::str::from_utf8(&tampered).unwrap(), &[SECRET]), Err(KsError::InvalidStr));
    for junk in ["", "not base64 !!", "djJ8", "djJ8MTIzfA==", "YWJj"] {
        assert_eq!(decode(junk, &[SECRET]), Err(KsError::InvalidStr), "{junk:?}");
    }
}

#[test]
fn minted_sessions_round_trip_with_awkward_values() {
    let privileges = Privileges::new().with("urirestrict", "http://a/b?c=d&e").with_flag("sview").with("all", "*");
    let spec = KsSpec {
        expiry: 2_000_000_000,
        partner_id: 42,
        privileges: &privileges,
        session_type: SessionType::Admin,
        user_id: "a user+with~odd/chars",
    };
    let minter = Minter::new(42, "s3cret");
    for ks in [minter.mint(&spec), mint_v1("s3cret", &spec, 7)] {
        let decoded = decode(&ks, &["s3cret"]).unwrap();
        assert_eq!(decoded.user_id, spec.user_id);
        assert_eq!(decoded.privileges.to_string(), "urirestrict:http://a/b?c=d&e,sview,*");
        assert!(decoded.is_admin());
    }
    assert_ne!(minter.mint(&spec), minter.mint(&spec), "fresh randomness each time");
}
