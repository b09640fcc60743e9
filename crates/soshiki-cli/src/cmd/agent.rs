//! The forwarder's agent: applies the forwarder's routing rules to its inbox, in model 2.
//!
//! The rules are stored on the server per forwarder (`PUT /v1/rules`) but only the agent can
//! evaluate them: the labels they test are sealed in the envelope metadata, which only the
//! forwarder's key opens. The agent never receives a part's `C1`; it makes re-encryption
//! shares and the server combines them.
//!
//! The agent applies only rules stored with the `set-rules` statement its own member key
//! signed over exactly those rules ([`soshiki_client::trust::verify_rules`]), and not older
//! than the newest signed rule set it applied before: a rule edited (or an old rule set
//! restored) in the server's database is refused, and the agent forwards nothing.

use soshiki_client::flows;
use soshiki_client::rules::{plan, Rule};
use soshiki_client::trust::RulesSignature;
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

/// Why a pass of the agent stopped.
#[derive(Debug)]
pub enum AgentError {
    /// The rules on the server are not the ones this member signed: nothing is forwarded.
    Rules(String),
    /// A step failed.
    Client(ClientError),
}

impl From<ClientError> for AgentError {
    fn from(e: ClientError) -> Self {
        AgentError::Client(e)
    }
}

/// One pass: fetch the forwarder's rules and check they are the ones it signed (and not older
/// than `seen_rules_time`, the time of the newest signed rule set applied before), look at
/// every delivery it holds with forwardable parts, open the routing metadata locally, and
/// forward the parts the rules route. Returns the forwards and the signed rules' time.
pub async fn run_once<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    seen_rules_time: u64,
) -> Result<(Vec<AgentForward>, Option<u64>), AgentError> {
    let (texts, signature) = flows::signed_rules(client, key).await?;
    let time = match signature {
        RulesSignature::Empty => return Ok((Vec::new(), None)),
        RulesSignature::Unsigned(why) => return Err(AgentError::Rules(why)),
        RulesSignature::Signed { time } if time < seen_rules_time => {
            return Err(AgentError::Rules(format!(
                "the server returns an older signed rule set (signed at {time}) than the one applied before (signed at {seen_rules_time})"
            )))
        }
        RulesSignature::Signed { time } => time,
    };
    let rules = parse_rules(&texts)?;
    let me = key.certificate.fingerprint().to_hex();
    let mut done = Vec::new();
    if rules.is_empty() {
        return Ok((done, Some(time)));
    }
    for d in client.inbox(None).await? {
        if d.holder_cert != me || d.forwardable_parts.is_empty() {
            continue;
        }
        let view = flows::forward_view(client, key, &d.id, Some(&d.forwardable_parts)).await?;
        let (routes, unmatched) = plan(view.metadata(), view.parts(), &rules);
        if routes.is_empty() {
            continue;
        }
        // From the request it just verified: no second fetch or verification.
        let result = flows::forward_viewed(client, key, &view, &routes).await?;
        let routes = result
            .deliveries
            .iter()
            .map(|n| (n.holder_cert.clone(), n.parts.clone(), n.id.clone()))
            .collect();
        done.push(AgentForward {
            delivery: d.id.clone(),
            title: view.metadata().title.clone(),
            routes,
            unmatched,
        });
    }
    Ok((done, Some(time)))
}
