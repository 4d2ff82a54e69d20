//! The public routes, served in process on an in-process bus.

use actix_web::{App, test};
use kalcord_api_gateway::routes;

use super::common::Edge;

#[actix_web::test]
async fn unknown_routes_get_a_json_404() {
    let _trace = kalcord_test_util::trace_init();
    let app = test::init_service(
        App::new().app_data(Edge::new(std::time::Duration::from_millis(300)).state).configure(routes),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/nope").to_request()).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["type"], "invalid_request");
    assert_eq!(body["message"], "no route for GET /nope");
    assert!(body["link"].as_str().unwrap().ends_with("docs/api.md#not_found"));
}

#[actix_web::test]
async fn status_reports_every_service_missing_when_none_answers() {
    let _trace = kalcord_test_util::trace_init();
    let app = test::init_service(
        App::new().app_data(Edge::new(std::time::Duration::from_millis(300)).state).configure(routes),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/api/v1/status").to_request()).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["status"], "degraded");
    let services = body["services"].as_array().unwrap();
    let names: Vec<&str> = services.iter().map(|s| s["service"].as_str().unwrap()).collect();
    assert_eq!(names, ["api-gateway", "interactions", "identity", "meetings", "notifications", "gateway-shard"]);
    for service in services {
        assert_eq!(service["status"], "unavailable");
        let problem = service["problems"][0].as_str().unwrap();
        assert!(problem.starts_with("no service answers on"), "{problem}");
    }
}

#[actix_web::test]
async fn invite_explains_every_permission_of_the_url() {
    let _trace = kalcord_test_util::trace_init();
    let edge = Edge::new(std::time::Duration::from_millis(300));
    let mut state = (**edge.state).clone();
    let mut common = (*state.deps.common).clone();
    common.discord.application_id = Some(4242);
    state.deps.common = std::sync::Arc::new(common);
    let app = test::init_service(App::new().app_data(actix_web::web::Data::new(state)).configure(routes)).await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/api/v1/invite").to_request()).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(
        body["url"],
        "https://discord.com/oauth2/authorize?client_id=4242&scope=bot%20applications.commands&permissions=17592186063872"
    );
    assert_eq!(body["permissions"], "17592186063872");
    assert_eq!(body["scopes"], serde_json::json!(["bot", "applications.commands"]));
    let reasons = body["reasons"].as_array().unwrap();
    let bits: u64 = reasons.iter().map(|r| 1u64 << r["bit"].as_u64().unwrap()).sum();
    assert_eq!(bits, 17_592_186_063_872);
    let embed = reasons.iter().find(|r| r["permission"] == "Embed Links").unwrap();
    assert_eq!(embed["bit"], 14);
    assert!(!embed["why"].as_str().unwrap().is_empty());
}

#[actix_web::test]
async fn invite_is_503_without_an_application_id() {
    let _trace = kalcord_test_util::trace_init();
    let app = test::init_service(
        App::new().app_data(Edge::new(std::time::Duration::from_millis(300)).state).configure(routes),
    )
    .await;
    let response = test::call_service(&app, test::TestRequest::get().uri("/api/v1/invite").to_request()).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["code"], "not_configured");
    assert!(body["message"].as_str().unwrap().contains("discord.application_id"), "{body}");
}
