//! The real whatsapp-rust client against wasim, end to end.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_pairing_then_login_connects() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, "15550001111").await;
    let pn = client.client.pn().expect("own number after pairing");
    assert_eq!(pn.user, "15550001111");
    let (_, stats) = admin(&sim, reqwest::Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["pairedAccounts"], 1);
    assert_eq!(stats["connectedDevices"], 1);
}
