//! A forwarder's routing rules: stored and returned as text with the owner-signed `set-rules`
//! statement that set them. The server cannot evaluate them (it cannot read labels); the
//! forwarder's agent does, and only if the statement verifies with its own key.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use soshiki_core::with_suite;
use soshiki_proto::json::Rules;
use soshiki_proto::{ActionSpec, B64};
use soshiki_store::RuleRow;

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::util::{self, random_id};
use crate::{action, AppState};

/// Most rules per forwarder.
pub const MAX_RULES: usize = 1000;
/// Longest rule, bytes.
pub const MAX_RULE_LEN: usize = 1024;

/// `GET /v1/rules`: the logged-in member's rules.
pub async fn get(State(st): State<AppState>, actor: Actor) -> ApiResult<Json<Rules>> {
    let rows = st.store.rules(actor.cert_id()).await?;
    let statement = st.store.rules_statement(actor.cert_id()).await?;
    Ok(Json(Rules {
        rules: rows.into_iter().map(|r| r.rule).collect(),
        statement: statement.map(B64),
    }))
}

/// `PUT /v1/rules`: replace the logged-in forwarder's rules.
pub async fn put(
    State(st): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Rules>,
) -> ApiResult<Json<Rules>> {
    if !actor.can_forward() {
        return Err(ApiError::Forbidden(
            "only a representative or forwarder has routing rules".into(),
        ));
    }
    if body.rules.len() > MAX_RULES
        || body
            .rules
            .iter()
            .any(|r| r.trim().is_empty() || r.len() > MAX_RULE_LEN)
    {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_RULES} rules, each 1 to {MAX_RULE_LEN} bytes"
        )));
    }
    let spec = ActionSpec::set_rules(actor.cert_id(), &body.rules);
    let entry = with_suite!(actor.suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    let now = st.now();
    let rows: Vec<RuleRow> = body
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            id: random_id(),
            org_id: actor.member.org_id.clone(),
            owner_cert: actor.cert_id().into(),
            rule: r.clone(),
            position: i as i64,
            created: now,
        })
        .collect();
    st.store
        .set_rules(
            actor.cert_id(),
            &rows,
            &entry,
            &[action::entry(&st, &actor.member.org_id, &entry)],
        )
        .await?;
    Ok(Json(Rules {
        rules: body.rules,
        statement: Some(B64(entry)),
    }))
}
