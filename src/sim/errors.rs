//! Errors a simulated method raises, and how `midclt` prints each kind on stderr.

use super::version::Personality;

/// One validation error: `[ERRNAME] attribute: message` (`ALL` when there is no attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VErr {
    pub attr: Option<String>,
    pub msg: String,
    pub errname: &'static str,
}

impl VErr {
    pub fn new(attr: impl Into<String>, msg: impl Into<String>) -> VErr {
        VErr {
            attr: Some(attr.into()),
            msg: msg.into(),
            errname: "EINVAL",
        }
    }

    pub fn all(msg: impl Into<String>, errname: &'static str) -> VErr {
        VErr {
            attr: None,
            msg: msg.into(),
            errname,
        }
    }

    pub fn errno(mut self, errname: &'static str) -> VErr {
        self.errname = errname;
        self
    }

    /// The line midclt prints.
    pub fn line(&self) -> String {
        let attr = match self.attr.as_deref() {
            None | Some("") => "ALL",
            Some(a) => a,
        };
        format!("[{}] {}: {}", self.errname, attr, self.msg)
    }
}

/// What went wrong in a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// `ValidationErrors`: one stderr line each, no traceback.
    Validation(Vec<VErr>),
    /// `CallError`: `[ERRNAME] message` and a traceback.
    Call {
        errname: &'static str,
        message: String,
    },
    /// Any other exception: `str(exc)` and a traceback naming its class.
    Exception { class: &'static str, text: String },
    /// CORE 13's schema layer: the first error only, `[attribute] message`, with a traceback.
    CoreSchema { attr: String, msg: String },
    /// The method does not exist (text differs by version).
    NoMethod { method: String },
    /// argparse rejected the command line (exit 2).
    Usage { sub: &'static str, message: String },
}

impl SimError {
    pub fn one(attr: impl Into<String>, msg: impl Into<String>) -> SimError {
        SimError::Validation(vec![VErr::new(attr, msg)])
    }

    pub fn call(errname: &'static str, message: impl Into<String>) -> SimError {
        SimError::Call {
            errname,
            message: message.into(),
        }
    }

    pub fn efault(message: impl Into<String>) -> SimError {
        SimError::call("EFAULT", message)
    }

    /// `InstanceNotFound`: `[ENOENT] ALL: Replication 9 does not exist`.
    pub fn not_found(verbose: &str, id: impl std::fmt::Display) -> SimError {
        SimError::Validation(vec![VErr::all(
            format!("{verbose} {id} does not exist"),
            "ENOENT",
        )])
    }

    pub fn match_not_found() -> SimError {
        SimError::Exception {
            class: "middlewared.utils.filter_list.MatchNotFound",
            text: "MatchNotFound()".into(),
        }
    }

    /// Renders stderr and the exit code for this error on `p`.
    pub fn render(&self, p: Personality) -> (String, i32) {
        match self {
            SimError::Validation(errs) => {
                let mut s = String::new();
                for e in errs {
                    s.push_str(&e.line());
                    s.push('\n');
                }
                (s, 1)
            }
            SimError::Call { errname, message } => {
                let reason = format!("[{errname}] {message}");
                let tb = traceback("middlewared.service_exception.CallError", &reason);
                (format!("{reason}\n{tb}"), 1)
            }
            SimError::Exception { class, text } => {
                let tb = traceback(class, text);
                (format!("{text}\n{tb}"), 1)
            }
            SimError::CoreSchema { attr, msg } => {
                let reason = format!("[{attr}] {msg}");
                let tb = traceback("middlewared.schema.Error", &reason);
                (format!("{reason}\n{tb}"), 1)
            }
            SimError::NoMethod { method } => {
                if p.jsonrpc() {
                    ("Method does not exist\n".into(), 1)
                } else {
                    let (service, name) = method.rsplit_once('.').unwrap_or(("", method));
                    let reason = if known_service(service) {
                        format!("[ENOMETHOD] Method {name:?} not found in {service:?}")
                    } else {
                        format!("[ENOMETHOD] Service {service:?} not found")
                    };
                    let reason = reason.replace('"', "'");
                    let tb = traceback("middlewared.service_exception.CallError", &reason);
                    (format!("{reason}\n{tb}"), 1)
                }
            }
            SimError::Usage { sub, message } => (usage(p, sub, message), 2),
        }
    }
}

/// Namespaces the simulated middleware knows (for ≤24.10's two not-found texts).
fn known_service(service: &str) -> bool {
    matches!(
        service,
        "system"
            | "core"
            | "pool.dataset"
            | "pool.snapshottask"
            | "pool.snapshot"
            | "zfs.snapshot"
            | "replication"
            | "service"
            | "ssh"
            | "keychaincredential"
            | "user"
            | "pool"
            | "zfs.dataset"
    )
}

/// A short Python-like traceback ending in `class: text`.
pub fn traceback(class: &str, text: &str) -> String {
    format!(
        "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 211, in call_method\n    result = await self.middleware.call_with_audit(message['method'], serviceobj, methodobj, params, self)\n  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 1529, in call_with_audit\n    result = await self._call(method, serviceobj, methodobj, params, app=app,\n  ...\n{class}: {text}\n"
    )
}

/// argparse's usage block and error line for `midclt` / `midclt call`.
pub fn usage(p: Personality, sub: &str, message: &str) -> String {
    let u = if sub == "call" {
        if p.quiet_is_call_option() {
            "usage: midclt call [-h] [-q] [-j] [-jp {progressbar,description}] method [args ...]"
        } else if p.job_flag_takes_value() {
            "usage: midclt call [-h] [-j JOB] [-jp {progressbar,description}] method [args ...]"
        } else {
            "usage: midclt call [-h] [-j] [-jp {progressbar,description}] method [args ...]"
        }
    } else if p.is_core() {
        "usage: midclt [-h] [-u URI] [-U USERNAME] [-P PASSWORD] [-t TIMEOUT] [-q]\n              {call,ping,waitready,sql,subscribe} ..."
    } else {
        "usage: midclt [-h] [-u URI] [-U USERNAME] [-P PASSWORD] [-K API_KEY] [-t TIMEOUT]\n              {call,ping,waitready,subscribe} ..."
    };
    let prog = if sub == "call" {
        "midclt call"
    } else {
        "midclt"
    };
    format!("{u}\n{prog}: error: {message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lines() {
        let e = SimError::not_found("Replication", 9);
        assert_eq!(
            e.render(Personality::V2510),
            ("[ENOENT] ALL: Replication 9 does not exist\n".into(), 1)
        );
        let e = SimError::efault("Task is not enabled");
        let (s, code) = e.render(Personality::V2404);
        assert!(
            s.starts_with("[EFAULT] Task is not enabled\nTraceback (most recent call last):\n")
        );
        assert_eq!(code, 1);
        let nm = SimError::NoMethod {
            method: "replication.nope".into(),
        };
        assert_eq!(nm.render(Personality::V2504).0, "Method does not exist\n");
        assert!(
            nm.render(Personality::V2404)
                .0
                .starts_with("[ENOMETHOD] Method 'nope' not found in 'replication'\n")
        );
    }
}
