//! Errors a simulated method raises, and how `midclt` prints each kind on stderr.

use super::render::py_repr_str;
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
    /// An exception whose `str()` is empty (`MatchNotFound()`): the middleware sends its
    /// `repr` as the reason from 24.04 on and nothing on CORE; the traceback's last line is
    /// the bare class.
    Bare {
        class: &'static str,
        repr: &'static str,
    },
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

    /// `get: true` with no match: `service_exception.MatchNotFound`, an `IndexError` raised
    /// without arguments, on every version.
    pub fn match_not_found() -> SimError {
        SimError::Bare {
            class: "middlewared.service_exception.MatchNotFound",
            repr: "MatchNotFound()",
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
                let tb = traceback(CALL_ERROR, &reason);
                (format!("{reason}\n{tb}"), 1)
            }
            SimError::Exception { class, text } => {
                let tb = traceback(class, text);
                (format!("{text}\n{tb}"), 1)
            }
            SimError::Bare { class, repr } => {
                // main.py call_method: CORE sends `str(e)`, and midclt prints no empty
                // reason; later versions send `str(e) or repr(e)`.
                let tb = traceback_lines(CALL_FRAMES, class);
                if p.is_core() {
                    (tb, 1)
                } else {
                    (format!("{repr}\n{tb}"), 1)
                }
            }
            SimError::CoreSchema { attr, msg } => {
                let reason = format!("[{attr}] {msg}");
                let tb = traceback("middlewared.schema.Error", &reason);
                (format!("{reason}\n{tb}"), 1)
            }
            SimError::NoMethod { method } => no_method(p, method),
            SimError::Usage { sub, message } => (usage(p, sub, message), 2),
        }
    }
}

/// `CallError`'s class as a traceback names it.
const CALL_ERROR: &str = "middlewared.service_exception.CallError";

/// A method that does not exist. 25.04+ answer JSON-RPC's `Method does not exist` with no
/// traceback (api/base/server/ws_handler/rpc.py `process_message`); before, main.py
/// `on_message` sends what utils/service/call.py `_method_lookup` raised.
fn no_method(p: Personality, method: &str) -> (String, i32) {
    if p.jsonrpc() {
        return ("Method does not exist\n".into(), 1);
    }
    let (class, reason) = match method.rsplit_once('.') {
        None => (CALL_ERROR, "[EBADMSG] Invalid method name".to_string()),
        Some((service, _)) if !known_service(p, service) => (
            CALL_ERROR,
            format!("[ENOMETHOD] Service {} not found", py_repr_str(service)),
        ),
        Some((service, name)) => (
            "middlewared.utils.service.call.MethodNotFoundError",
            format!(
                "[ENOMETHOD] Method {} not found in {}",
                py_repr_str(name),
                py_repr_str(service)
            ),
        ),
    };
    let tb = traceback_lines(LOOKUP_FRAMES, &format!("{class}: {reason}"));
    (format!("{reason}\n{tb}"), 1)
}

/// The simulated namespaces that are services on `p` (up to 24.10; later versions look
/// methods up by their full name). `pool.snapshot` is a service from 25.10 only, so on 24.x
/// and CORE `pool.snapshot.query` names an unknown service, not an unknown method.
fn known_service(p: Personality, service: &str) -> bool {
    match service {
        "pool.snapshot" => p >= Personality::V2510,
        _ => matches!(
            service,
            "system"
                | "core"
                | "pool.dataset"
                | "pool.snapshottask"
                | "zfs.snapshot"
                | "replication"
                | "service"
                | "ssh"
                | "keychaincredential"
                | "user"
                | "pool"
                | "zfs.dataset"
        ),
    }
}

/// Frames of a failed method call (main.py `call_method`).
const CALL_FRAMES: &str = "  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 211, in call_method\n    result = await self.middleware.call_with_audit(message['method'], serviceobj, methodobj, params, self)\n  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 1529, in call_with_audit\n    result = await self._call(method, serviceobj, methodobj, params, app=app,\n  ...\n";

/// Frames of a failed method lookup (main.py `on_message`, utils/service/call.py).
const LOOKUP_FRAMES: &str = "  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 367, in on_message\n    serviceobj, methodobj = self.middleware._method_lookup(message['method'])\n  File \"/usr/lib/python3/dist-packages/middlewared/utils/service/call.py\", line 26, in _method_lookup\n    ...\n";

/// A Python traceback ending in `class: text`, as midclt prints it: `print()` of
/// `format_exception()`'s text, which already ends in a newline, so a blank line follows.
pub fn traceback(class: &str, text: &str) -> String {
    traceback_lines(CALL_FRAMES, &format!("{class}: {text}"))
}

fn traceback_lines(frames: &str, last: &str) -> String {
    format!("Traceback (most recent call last):\n{frames}{last}\n\n")
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
