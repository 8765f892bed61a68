//! The objection ticket's state machine (SPEC §4, 条例 art. 25):
//! received → request sent → department replied → applicant notified (or
//! unreachable, after the attempts the center sets) → closed; withdrawn by
//! the applicant is terminal too. A pause (waiting for the applicant's
//! documents) sits beside the state: it stops the center's own steps, not
//! the department's reply or the applicant's withdrawal.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Received,
    RequestSent,
    Replied,
    Notified,
    Unreachable,
    Closed,
    Withdrawn,
}

pub const STATES: [State; 7] = [
    State::Received,
    State::RequestSent,
    State::Replied,
    State::Notified,
    State::Unreachable,
    State::Closed,
    State::Withdrawn,
];

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::RequestSent => "request_sent",
            State::Replied => "replied",
            State::Notified => "notified",
            State::Unreachable => "unreachable",
            State::Closed => "closed",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        STATES.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, State::Closed | State::Withdrawn)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the verification request to one more department.
    SendRequest,
    /// Record one department's reply.
    RecordReply,
    /// One attempt to notify the applicant; `reached` says how it went.
    Notify {
        reached: bool,
    },
    /// Give up notifying after the attempts the center requires.
    MarkUnreachable,
    Close,
    Withdraw,
    Pause,
    Resume,
}

pub const ACTIONS: [Action; 9] = [
    Action::SendRequest,
    Action::RecordReply,
    Action::Notify { reached: true },
    Action::Notify { reached: false },
    Action::MarkUnreachable,
    Action::Close,
    Action::Withdraw,
    Action::Pause,
    Action::Resume,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SendRequest => "send_request",
            Action::RecordReply => "record_reply",
            Action::Notify { reached: true } => "notify_reached",
            Action::Notify { reached: false } => "notify_failed",
            Action::MarkUnreachable => "mark_unreachable",
            Action::Close => "close",
            Action::Withdraw => "withdraw",
            Action::Pause => "pause",
            Action::Resume => "resume",
        }
    }
}

/// What the decision needs to know about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub state: State,
    pub paused: bool,
    /// Departments whose records are disputed (one letter each).
    pub departments: usize,
    pub letters_sent: usize,
    pub letters_replied: usize,
    pub failed_notices: u32,
    /// Failed attempts after which "unreachable" is allowed (center setting).
    pub attempts_required: u32,
}

/// Why an action is not allowed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Closed or withdrawn: nothing more happens to it.
    Terminal,
    /// Not in this state.
    WrongState,
    /// Paused: resume first.
    Paused,
    NotPaused,
    /// Every department already has its letter.
    AllRequestsSent,
    /// No letter is waiting for a reply.
    NoLetterWaiting,
    /// Fewer failed attempts than the center requires.
    TooFewAttempts,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Terminal => "the ticket is closed or withdrawn",
            Refusal::WrongState => "not allowed in the ticket's state",
            Refusal::Paused => "the ticket is paused; resume it first",
            Refusal::NotPaused => "the ticket is not paused",
            Refusal::AllRequestsSent => "every department already has its request",
            Refusal::NoLetterWaiting => "no request is waiting for a reply",
            Refusal::TooFewAttempts => "fewer notification attempts than required",
        })
    }
}

/// The state after `action`, or why it is refused. Pausing and resuming
/// keep the state (the caller flips the pause).
pub fn next(f: Facts, action: Action) -> Result<State, Refusal> {
    use State as S;
    if f.state.is_terminal() {
        return Err(Refusal::Terminal);
    }
    let center_step = matches!(
        action,
        Action::SendRequest
            | Action::Notify { .. }
            | Action::MarkUnreachable
            | Action::Close
            | Action::Pause
    );
    if f.paused && center_step {
        return Err(Refusal::Paused);
    }
    match action {
        Action::Withdraw => Ok(S::Withdrawn),
        Action::Pause => Ok(f.state),
        Action::Resume if f.paused => Ok(f.state),
        Action::Resume => Err(Refusal::NotPaused),
        Action::SendRequest => match f.state {
            S::Received | S::RequestSent if f.letters_sent < f.departments => Ok(S::RequestSent),
            S::Received | S::RequestSent => Err(Refusal::AllRequestsSent),
            _ => Err(Refusal::WrongState),
        },
        Action::RecordReply => match f.state {
            S::RequestSent if f.letters_replied < f.letters_sent => {
                let all = f.letters_replied + 1 == f.departments;
                Ok(if all { S::Replied } else { S::RequestSent })
            }
            S::RequestSent => Err(Refusal::NoLetterWaiting),
            _ => Err(Refusal::WrongState),
        },
        Action::Notify { reached } => match f.state {
            S::Replied if reached => Ok(S::Notified),
            S::Replied => Ok(S::Replied),
            _ => Err(Refusal::WrongState),
        },
        Action::MarkUnreachable => match f.state {
            S::Replied if f.failed_notices >= f.attempts_required => Ok(S::Unreachable),
            S::Replied => Err(Refusal::TooFewAttempts),
            _ => Err(Refusal::WrongState),
        },
        Action::Close => match f.state {
            S::Notified | S::Unreachable => Ok(S::Closed),
            _ => Err(Refusal::WrongState),
        },
    }
}

/// Where a disputed record stands on its ticket: disputed until the
/// department's reply decides it, or withdrawn with the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under objection, waiting for the department.
    Disputed,
    /// Wrong or incomplete: a new version, linked to the ticket.
    Corrected,
    /// Should not be there: kept, off every report.
    Deleted,
    /// Correct: the annotation is removed.
    Confirmed,
    /// Cannot be confirmed: "checked, unconfirmed" stays; the subject may
    /// add a statement to the record.
    Unconfirmed,
    /// The applicant withdrew the objection before a decision.
    Withdrawn,
}

pub const OUTCOMES: [Outcome; 6] = [
    Outcome::Disputed,
    Outcome::Corrected,
    Outcome::Deleted,
    Outcome::Confirmed,
    Outcome::Unconfirmed,
    Outcome::Withdrawn,
];

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Disputed => "disputed",
            Outcome::Corrected => "corrected",
            Outcome::Deleted => "deleted",
            Outcome::Confirmed => "confirmed",
            Outcome::Unconfirmed => "unconfirmed",
            Outcome::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        OUTCOMES.into_iter().find(|o| o.as_str() == s)
    }

    /// What a department's reply may decide.
    pub fn is_department_decision(self) -> bool {
        matches!(
            self,
            Outcome::Corrected | Outcome::Deleted | Outcome::Confirmed | Outcome::Unconfirmed
        )
    }
}

/// How the applicant is told the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeChannel {
    Written,
    Phone,
}

impl NoticeChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeChannel::Written => "written",
            NoticeChannel::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeChannel> {
        [NoticeChannel::Written, NoticeChannel::Phone]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State as S;

    fn facts(state: State, paused: bool) -> Facts {
        // Two departments; as many letters sent and replied as the state
        // implies, one failed notice short of the required three.
        let (sent, replied) = match state {
            S::Received => (0, 0),
            S::RequestSent => (1, 0),
            _ => (2, 2),
        };
        Facts {
            state,
            paused,
            departments: 2,
            letters_sent: sent,
            letters_replied: replied,
            failed_notices: 2,
            attempts_required: 3,
        }
    }

    /// The whole table: for every state, pause flag and action, the one
    /// expected answer. Anything not listed as allowed must be refused.
    #[test]
    fn every_transition_allowed_and_forbidden() {
        let mut allowed = 0;
        for state in STATES {
            for paused in [false, true] {
                for action in ACTIONS {
                    let got = next(facts(state, paused), action);
                    let want: Result<State, Refusal> = if state.is_terminal() {
                        Err(Refusal::Terminal)
                    } else {
                        match (action, state, paused) {
                            (Action::Withdraw, _, _) => Ok(S::Withdrawn),
                            (Action::Resume, s, true) => Ok(s),
                            (Action::Resume, _, false) => Err(Refusal::NotPaused),
                            (Action::RecordReply, S::RequestSent, _) => Ok(S::RequestSent),
                            (Action::RecordReply, _, _) => Err(Refusal::WrongState),
                            (_, _, true) => Err(Refusal::Paused),
                            (Action::Pause, s, false) => Ok(s),
                            (Action::SendRequest, S::Received | S::RequestSent, _) => {
                                Ok(S::RequestSent)
                            }
                            (Action::Notify { reached: true }, S::Replied, _) => Ok(S::Notified),
                            (Action::Notify { reached: false }, S::Replied, _) => Ok(S::Replied),
                            (Action::MarkUnreachable, S::Replied, _) => {
                                Err(Refusal::TooFewAttempts)
                            }
                            (Action::Close, S::Notified | S::Unreachable, _) => Ok(S::Closed),
                            _ => Err(Refusal::WrongState),
                        }
                    };
                    assert_eq!(got, want, "{state:?} paused={paused} {action:?}");
                    allowed += usize::from(got.is_ok());
                }
            }
        }
        assert_eq!(allowed, 28, "the number of allowed transitions changed");
    }

    #[test]
    fn letters_are_counted() {
        let mut f = facts(S::RequestSent, false);
        f.letters_sent = 2;
        assert_eq!(next(f, Action::SendRequest), Err(Refusal::AllRequestsSent));
        // The first of two replies keeps the ticket waiting; the second moves it.
        assert_eq!(next(f, Action::RecordReply), Ok(S::RequestSent));
        f.letters_replied = 1;
        assert_eq!(next(f, Action::RecordReply), Ok(S::Replied));
        f.letters_replied = 2;
        assert_eq!(next(f, Action::RecordReply), Err(Refusal::NoLetterWaiting));
        // A single-department ticket goes to replied at once.
        let one = Facts {
            departments: 1,
            letters_sent: 1,
            letters_replied: 0,
            ..facts(S::RequestSent, false)
        };
        assert_eq!(next(one, Action::RecordReply), Ok(S::Replied));
        let none_sent = Facts {
            departments: 1,
            letters_sent: 1,
            ..facts(S::Received, false)
        };
        assert_eq!(
            next(none_sent, Action::SendRequest),
            Err(Refusal::AllRequestsSent)
        );
    }

    #[test]
    fn unreachable_needs_the_required_attempts() {
        let mut f = facts(S::Replied, false);
        assert_eq!(
            next(f, Action::MarkUnreachable),
            Err(Refusal::TooFewAttempts)
        );
        f.failed_notices = 3;
        assert_eq!(next(f, Action::MarkUnreachable), Ok(S::Unreachable));
        assert_eq!(
            next(facts(S::Unreachable, false), Action::Close),
            Ok(S::Closed)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in STATES {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for o in OUTCOMES {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        let decided: Vec<&str> = OUTCOMES
            .into_iter()
            .filter(|o| o.is_department_decision())
            .map(Outcome::as_str)
            .collect();
        assert_eq!(
            decided,
            ["corrected", "deleted", "confirmed", "unconfirmed"]
        );
        for c in ["written", "phone"] {
            assert_eq!(NoticeChannel::parse(c).map(NoticeChannel::as_str), Some(c));
        }
        assert_eq!(NoticeChannel::parse("email"), None);
        assert_eq!(State::parse("open"), None);
    }
}
