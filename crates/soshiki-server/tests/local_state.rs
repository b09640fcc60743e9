//! `GET`/`PUT /v1/me/local-state/{kind}`: the server's copy of a member's own browser state
//! (sealed and signed by the member key in the browser; opaque here). It must only ever move
//! forward, so that someone who rolls back or wipes a browser profile is caught at the next
//! unlock; it is bounded in size and kinds; and a member reaches only its own.

mod common;

use common::*;
use soshiki_client::flows;
use soshiki_client::proto::json::LocalStateBody;
use soshiki_client::proto::B64;
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::Roles;
use soshiki_core::suite::P256;

async fn token_of(url: &str, m: &Member<P256>) -> String {
    let mut c = Client::new(url, &ClientOptions::default()).expect("client");
    flows::login(&mut c, &m.key).await.expect("login").token
}

struct Caller {
    url: String,
    token: String,
}

impl Caller {
    async fn put(&self, kind: &str, serial: u64, state: &[u8]) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/v1/me/local-state/{kind}", self.url))
            .bearer_auth(&self.token)
            .json(&LocalStateBody {
                serial,
                state: B64(state.to_vec()),
            })
            .send()
            .await
            .expect("put");
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }

    async fn get(&self, kind: &str) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .get(format!("{}/v1/me/local-state/{kind}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }
}

fn state_of(v: &serde_json::Value) -> (u64, Vec<u8>) {
    (
        v["serial"].as_u64().expect("serial"),
        B64::decode(v["state"].as_str().expect("state")).expect("base64"),
    )
}

/// Someone who wrote an older signed copy back into the browser profile tries to make the
/// server's copy match it (or a client replays an old upload): a serial that is not greater
/// than the stored one is refused with 409, and the newest copy stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_older_local_state_is_refused_and_the_newest_kept() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;
    let me = Caller {
        url: url.clone(),
        token: token_of(&url, &clerk).await,
    };
    let (status, body) = me.get("pins").await;
    assert_eq!(status, 404, "nothing stored yet: {body}");
    assert_eq!(body["error"]["code"], "not-found");

    assert_eq!(me.put("pins", 1, b"pins #1").await.0, 200);
    let (status, body) = me.put("pins", 3, b"pins #3").await;
    assert_eq!(status, 200);
    assert_eq!(state_of(&body), (3, b"pins #3".to_vec()));
    for (serial, what) in [
        (3, "same serial"),
        (2, "older serial"),
        (1, "the first copy"),
    ] {
        let (status, body) = me.put("pins", serial, b"rolled back").await;
        assert_eq!(status, 409, "{what}: {body}");
        assert_eq!(body["error"]["code"], "conflict", "{what}");
    }
    let (status, body) = me.get("pins").await;
    assert_eq!(status, 200);
    assert_eq!(state_of(&body), (3, b"pins #3".to_vec()));
    // The other kind is separate.
    assert_eq!(me.get("trust").await.0, 404);
    assert_eq!(me.put("trust", 1, b"trust #1").await.0, 200);
    assert_eq!(state_of(&me.get("pins").await.1).0, 3);
}

/// Bad input is refused with a clear 4xx and changes nothing: a state above 64 KiB (413), an
/// empty state, serial 0, a serial beyond the databases' integers, a kind that is not one of
/// the known ones (400); without a token, 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_state_is_bounded_and_checked() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;
    let me = Caller {
        url: url.clone(),
        token: token_of(&url, &clerk).await,
    };
    let max = vec![7u8; 64 * 1024];
    let (status, body) = me.put("pins", 1, &[7u8; 64 * 1024 + 1]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "too-large");
    for (kind, serial, state, what) in [
        ("pins", 2, &b""[..], "empty state"),
        ("pins", 0, &b"x"[..], "serial 0"),
        ("pins", 1u64 << 63, &b"x"[..], "serial beyond i64"),
        ("settings", 2, &b"x"[..], "unknown kind"),
        ("PINS", 2, &b"x"[..], "upper-case kind"),
    ] {
        let (status, body) = me.put(kind, serial, state).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], "bad-request", "{what}");
    }
    assert_eq!(me.get("pins").await.0, 404, "nothing was stored");
    assert_eq!(me.put("pins", 1, &max).await.0, 200, "exactly 64 KiB");
    assert_eq!(state_of(&me.get("pins").await.1).1, max);
    let anon = reqwest::Client::new()
        .get(format!("{url}/v1/me/local-state/pins"))
        .send()
        .await
        .expect("get");
    assert_eq!(anon.status().as_u16(), 401);
}

/// Two members (and an administrator) of one organization: each reads and writes only its own
/// state; a higher serial stored by one does not block or replace the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reaches_only_its_own_local_state() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let alice = enroll(&url, &city, "甲", Roles::READER).await;
    let bob = enroll(&url, &city, "乙", Roles::READER).await;
    let a = Caller {
        url: url.clone(),
        token: token_of(&url, &alice).await,
    };
    let b = Caller {
        url: url.clone(),
        token: token_of(&url, &bob).await,
    };
    let admin = Caller {
        url: url.clone(),
        token: token_of(&url, &city.admin).await,
    };
    assert_eq!(a.put("pins", 5, b"alice's pins").await.0, 200);
    assert_eq!(b.get("pins").await.0, 404, "bob sees no state of his own");
    assert_eq!(admin.get("pins").await.0, 404, "nor does the administrator");
    assert_eq!(b.put("pins", 1, b"bob's pins").await.0, 200);
    assert_eq!(admin.put("pins", 9, b"admin's pins").await.0, 200);
    assert_eq!(
        state_of(&a.get("pins").await.1),
        (5, b"alice's pins".to_vec())
    );
    assert_eq!(
        state_of(&b.get("pins").await.1),
        (1, b"bob's pins".to_vec())
    );
}
