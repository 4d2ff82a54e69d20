//! Retries, timeouts and the circuit breaker against injected faults.

use std::time::Duration;

use kalcord_kaltura::{KalturaError, RoomKind, RoomSpec, UserProfile};
use kalcord_kaltura_emulator::{Fault, FaultKind};

use super::common::Harness;

fn fault(kind: FaultKind, service: &str, action: &str, count: u32) -> Fault {
    Fault { kind, service: Some(service.to_owned()), action: Some(action.to_owned()), count }
}

async fn with_user(h: &Harness) {
    h.client.ensure_user("discord-9", &UserProfile::default()).await.unwrap();
    h.state().clear_requests();
}

#[tokio::test]
async fn rate_limits_and_gateway_errors_are_retried() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    with_user(&h).await;
    h.state().inject_fault(fault(FaultKind::ActionBlocked, "user", "get", 1));
    h.state().inject_fault(fault(FaultKind::Http503, "user", "get", 1));
    assert_eq!(h.client.get_user("discord-9").await.unwrap().id, "discord-9");
    assert_eq!(h.calls("user", "get"), 3);
    h.stop().await;
}

#[tokio::test]
async fn retries_are_bounded() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::new().await;
    with_user(&h).await;
    h.state().inject_fault(fault(FaultKind::ActionBlocked, "user", "get", 10));
    let err = h.client.get_user("discord-9").await.unwrap_err();
    assert!(matches!(err.api(), Some(kalcord_kaltura::ApiError::ActionBlocked { .. })), "{err:?}");
    assert_eq!(h.calls("user", "get"), 3, "max_attempts");
    h.stop().await;
}

#[tokio::test]
async fn a_create_that_hangs_is_not_sent_twice() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(|config| config.timeout = Duration::from_millis(300)).await;
    h.state().inject_fault(fault(FaultKind::Hang, "schedule_scheduleresource", "add", 1));
    let spec = RoomSpec {
        description: None,
        kind: RoomKind::MeetingRoom,
        name: "Hangs".into(),
        owner_id: None,
        reference_id: "m-1".into(),
        schedule: None,
        auto_record: false,
    };
    let err = h.client.create_room(&spec).await.unwrap_err();
    assert!(matches!(err, KalturaError::Timeout { .. }), "{err:?}");
    assert_eq!(h.calls("schedule_scheduleresource", "add"), 1, "Kaltura may have created it: no blind retry");
    h.stop().await;
}

#[tokio::test]
async fn a_read_that_hangs_is_retried_then_times_out() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(|config| config.timeout = Duration::from_millis(200)).await;
    with_user(&h).await;
    h.state().inject_fault(fault(FaultKind::Hang, "user", "get", 1));
    assert_eq!(h.client.get_user("discord-9").await.unwrap().id, "discord-9", "second attempt succeeds");
    h.state().inject_fault(fault(FaultKind::Hang, "user", "get", 5));
    let err = h.client.get_user("discord-9").await.unwrap_err();
    assert!(matches!(err, KalturaError::Timeout { after, .. } if after == Duration::from_millis(200)), "{err:?}");
    h.stop().await;
}

#[tokio::test]
async fn an_outage_opens_the_breaker_then_it_recovers() {
    let _trace = kalcord_test_util::trace_init();
    let h = Harness::with(|config| config.retry.max_attempts = 1).await;
    with_user(&h).await;
    h.state().inject_fault(fault(FaultKind::Http502, "user", "get", 3));
    for _ in 0..3 {
        assert!(matches!(h.client.get_user("discord-9").await, Err(KalturaError::Http { status: 502, .. })));
    }
    let err = h.client.get_user("discord-9").await.unwrap_err();
    assert!(matches!(err, KalturaError::CircuitOpen { partner_id: 1_234_567, .. }), "{err:?}");
    assert_eq!(h.calls("user", "get"), 3, "an open breaker sends nothing");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(h.client.get_user("discord-9").await.unwrap().id, "discord-9", "the trial call closes it");
    h.stop().await;
}
