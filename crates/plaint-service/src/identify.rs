//! Who is asking: the one extension point where a deployment plugs in its identity provider.
//!
//! Every request but `/healthz` and `/openapi.json` is answered for an [`Actor`], which the
//! service gets from an [`Identify`] given the request's head. The default,
//! [`DevelopmentHeaders`], believes whatever the client writes in four headers: it is for
//! development and tests only. A real deployment replaces it (with
//! [`crate::Service::identify`]) by one that verifies a session cookie or a bearer token and
//! maps the user to an actor: their id, and for staff their roles and department as the
//! policy names them.

use axum::http::request::Parts;
use plaint::{Actor, ActorId, DepartmentKey, RoleKey};

/// Turns a request's head into the actor it acts for. Called once per request, before the
/// handler reads anything else; a refusal is answered with 401 and an [`plaint::ErrorBody`]
/// whose code is `unauthenticated`.
///
/// Verification is synchronous on purpose: checking a signed token against keys the
/// provider holds in memory needs no I/O. A provider that must call out per request (token
/// introspection) belongs in a tower layer in front of the router, which can put what it
/// learned in the request's extensions for `actor` to read.
///
/// ```
/// use axum::http::request::Parts;
/// use plaint::{Actor, ActorId};
/// use plaint_service::{Identify, IdentifyError};
///
/// /// Everyone is the complainant the `X-Customer` header names (a gateway set it).
/// struct Gateway;
///
/// impl Identify for Gateway {
///     fn actor(&self, parts: &Parts) -> Result<Actor, IdentifyError> {
///         let id = parts.headers.get("x-customer").ok_or(IdentifyError::Missing("x-customer"))?;
///         let id = id.to_str().ok().and_then(|s| ActorId::new(s).ok()).ok_or(
///             IdentifyError::Invalid { header: "x-customer", reason: "not an actor id".into() },
///         )?;
///         Ok(Actor::complainant(id))
///     }
/// }
/// ```
pub trait Identify: Send + Sync + 'static {
    /// The actor the request acts for.
    ///
    /// # Errors
    /// An [`IdentifyError`] when the request names no actor, or one that cannot be believed.
    fn actor(&self, parts: &Parts) -> Result<Actor, IdentifyError>;
}

/// Why a request has no actor; answered with 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifyError {
    /// A header the provider needs is absent.
    #[error("the request has no {0} header")]
    Missing(&'static str),
    /// A header is present but unusable.
    #[error("the {header} header is invalid: {reason}")]
    Invalid {
        /// Which header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The provider refused the credentials (expired, revoked, unknown).
    #[error("the credentials were refused: {0}")]
    Refused(String),
}

/// **For development and tests only**: the actor as the client declares it, trusting the
/// client entirely.
///
/// - `X-Actor-Id`: the actor's id (required).
/// - `X-Actor-Kind`: `staff` (the default) or `complainant`.
/// - `X-Actor-Roles`: staff's roles, comma-separated (`agent,investigator`).
/// - `X-Actor-Department`: staff's department, if any.
///
/// A request without `X-Actor-Id` is read from the `plaint-dev-actor` cookie instead, which
/// the dashboard's development sign-in (`/ui/sign-in`) sets: browsers send no custom headers.
///
/// The system actor cannot be claimed: only the service's runner ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DevelopmentHeaders;

impl DevelopmentHeaders {
    fn header<'a>(parts: &'a Parts, name: &'static str) -> Result<Option<&'a str>, IdentifyError> {
        match parts.headers.get(name) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|s| Some(s.trim()))
                .map_err(|_| IdentifyError::Invalid {
                    header: name,
                    reason: "not visible ASCII".to_owned(),
                }),
        }
    }
}

/// The development sign-in's cookie: `kind|id|roles joined by +|department`.
pub(crate) const DEV_COOKIE: &str = "plaint-dev-actor";

/// The value of [`DEV_COOKIE`] for an actor, checked as the headers are.
pub(crate) fn dev_cookie(
    kind: &str,
    id: &str,
    roles: &[&str],
    department: &str,
) -> Result<String, IdentifyError> {
    let value = format!("{kind}|{id}|{}|{department}", roles.join("+"));
    from_cookie(&value)?;
    Ok(value)
}

/// The actor a [`DEV_COOKIE`] value names.
fn from_cookie(value: &str) -> Result<Actor, IdentifyError> {
    let invalid = |reason: &str| IdentifyError::Invalid {
        header: "cookie",
        reason: reason.to_owned(),
    };
    let mut parts = value.split('|');
    let (Some(kind), Some(id), Some(roles), Some(department), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid("not kind|id|roles|department"));
    };
    let id = ActorId::new(id).map_err(|e| invalid(&e.to_string()))?;
    match kind {
        "complainant" => Ok(Actor::complainant(id)),
        "staff" => {
            let roles = roles
                .split('+')
                .filter(|r| !r.is_empty())
                .map(|r| RoleKey::new(r).map_err(|e| invalid(&e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let department = Some(department)
                .filter(|d| !d.is_empty())
                .map(|d| DepartmentKey::new(d).map_err(|e| invalid(&e.to_string())))
                .transpose()?;
            Ok(Actor::staff(id, roles, department))
        }
        _ => Err(invalid("the kind is neither staff nor complainant")),
    }
}

impl Identify for DevelopmentHeaders {
    fn actor(&self, parts: &Parts) -> Result<Actor, IdentifyError> {
        if !parts.headers.contains_key("x-actor-id")
            && let Some(value) = crate::dashboard::cookie(&parts.headers, DEV_COOKIE)
        {
            return from_cookie(value);
        }
        let invalid = |header, e: &dyn std::fmt::Display| IdentifyError::Invalid {
            header,
            reason: e.to_string(),
        };
        let id = Self::header(parts, "x-actor-id")?.ok_or(IdentifyError::Missing("x-actor-id"))?;
        let id = ActorId::new(id).map_err(|e| invalid("x-actor-id", &e))?;
        match Self::header(parts, "x-actor-kind")?.unwrap_or("staff") {
            "complainant" => Ok(Actor::complainant(id)),
            "staff" => {
                let roles = Self::header(parts, "x-actor-roles")?
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(|r| RoleKey::new(r).map_err(|e| invalid("x-actor-roles", &e)))
                    .collect::<Result<Vec<_>, _>>()?;
                let department = Self::header(parts, "x-actor-department")?
                    .filter(|d| !d.is_empty())
                    .map(|d| DepartmentKey::new(d).map_err(|e| invalid("x-actor-department", &e)))
                    .transpose()?;
                Ok(Actor::staff(id, roles, department))
            }
            other => Err(invalid(
                "x-actor-kind",
                &format_args!("{other:?} is neither \"staff\" nor \"complainant\""),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut r = Request::builder();
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(()).unwrap().into_parts().0
    }

    #[test]
    fn staff_with_roles_and_department() {
        let a = DevelopmentHeaders
            .actor(&parts(&[
                ("x-actor-id", "agent-7"),
                ("x-actor-roles", "agent, investigator"),
                ("x-actor-department", "hub"),
            ]))
            .unwrap();
        let want = Actor::staff(
            ActorId::new("agent-7").unwrap(),
            vec![
                RoleKey::new("agent").unwrap(),
                RoleKey::new("investigator").unwrap(),
            ],
            Some(DepartmentKey::new("hub").unwrap()),
        );
        assert_eq!(a, want);
    }

    #[test]
    fn complainant() {
        let a = DevelopmentHeaders
            .actor(&parts(&[
                ("x-actor-id", "cust-1"),
                ("x-actor-kind", "complainant"),
            ]))
            .unwrap();
        assert_eq!(a, Actor::complainant(ActorId::new("cust-1").unwrap()));
    }

    #[test]
    fn the_sign_in_cookie() {
        let value = dev_cookie("staff", "agent-7", &["agent", "investigator"], "hub").unwrap();
        let a = DevelopmentHeaders
            .actor(&parts(&[("cookie", &format!("x=1; {DEV_COOKIE}={value}"))]))
            .unwrap();
        assert_eq!(a.id.as_str(), "agent-7");
        assert!(matches!(a.kind, plaint::ActorKind::Staff { ref roles, .. } if roles.len() == 2));
        let c = DevelopmentHeaders
            .actor(&parts(&[(
                "cookie",
                &format!(
                    "{DEV_COOKIE}={}",
                    dev_cookie("complainant", "cust-1", &[], "").unwrap()
                ),
            )]))
            .unwrap();
        assert_eq!(c, Actor::complainant(ActorId::new("cust-1").unwrap()));
        for bad in ["system|a||", "staff|bad id||", "staff|a|b|c|d", "staff"] {
            assert!(from_cookie(bad).is_err(), "{bad}");
        }
        assert!(dev_cookie("staff", "a", &["bad role!"], "").is_err());
    }

    #[test]
    fn refuses_what_it_cannot_believe() {
        assert_eq!(
            DevelopmentHeaders.actor(&parts(&[])),
            Err(IdentifyError::Missing("x-actor-id"))
        );
        for bad in [
            &[("x-actor-id", "a"), ("x-actor-kind", "system")][..],
            &[("x-actor-id", "")],
            &[("x-actor-id", "a"), ("x-actor-roles", "agent,bad role!")],
        ] {
            assert!(matches!(
                DevelopmentHeaders.actor(&parts(bad)),
                Err(IdentifyError::Invalid { .. })
            ));
        }
    }
}
