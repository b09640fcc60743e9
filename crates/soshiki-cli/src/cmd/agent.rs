//! The forwarder's agent: applies the forwarder's routing rules to its inbox, in model 2.
//!
//! The rules are stored on the server per forwarder (`PUT /v1/rules`) but only the agent can
//! evaluate them: the labels they test are sealed in the envelope metadata, which only the
//! forwarder's key opens. The agent never receives a part's `C1`; it makes re-encryption
//! shares and the server combines them.

use soshiki_client::flows;
use soshiki_client::rules::{plan, Rule};
use soshiki_client::{Client, ClientError};
use soshiki_core::keyfile::MemberKey;
use soshiki_core::suite::Suite;

/// One forward the agent made.
#[derive(Clone, Debug)]
pub struct AgentForward {
    /// The delivery forwarded from.
    pub delivery: String,
    /// Envelope title (from the sealed metadata).
    pub title: String,
    /// `(target certificate id, parts, new delivery id)`.
    pub routes: Vec<(String, Vec<u32>, String)>,
    /// Parts no rule matched (they stay with the forwarder).
    pub unmatched: Vec<u32>,
}

/// Parse rule lines (as stored on the server).
pub fn parse_rules(texts: &[String]) -> Result<Vec<Rule>, ClientError> {
    texts
        .iter()
        .map(|t| Rule::parse(t).map_err(ClientError::Invalid))
        .collect()
}

/// One pass: fetch the forwarder's rules, look at every delivery it holds with forwardable
/// parts, open the routing metadata locally, and forward the parts the rules route.
pub async fn run_once<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
) -> Result<Vec<AgentForward>, ClientError> {
    let rules = parse_rules(&client.rules().await?)?;
    let me = key.certificate.fingerprint().to_hex();
    let mut done = Vec::new();
    if rules.is_empty() {
        return Ok(done);
    }
    for d in client.inbox(None).await? {
        if d.holder_cert != me || d.forwardable_parts.is_empty() {
            continue;
        }
        let view = flows::forward_view(client, key, &d.id, Some(&d.forwardable_parts)).await?;
        let (routes, unmatched) = plan(&view.metadata, &view.parts, &rules);
        if routes.is_empty() {
            continue;
        }
        let result = flows::forward(client, key, &d.id, &routes).await?;
        let routes = result
            .deliveries
            .iter()
            .map(|n| (n.holder_cert.clone(), n.parts.clone(), n.id.clone()))
            .collect();
        done.push(AgentForward {
            delivery: d.id.clone(),
            title: view.metadata.title.clone(),
            routes,
            unmatched,
        });
    }
    Ok(done)
}
