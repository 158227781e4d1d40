//! Progress reporting without a terminal: long library operations (a search, a collection, a
//! validation, a training run) tell an [`Observer`] what they are doing, and the caller decides
//! how to show it. The command-line interface draws progress bars; a library user can pass
//! [`Silent`] or record the events in a test.
//!
//! ```
//! use analognas::progress::{Event, Observer};
//! struct Count(std::sync::atomic::AtomicUsize);
//! impl Observer for Count {
//!     fn event(&self, e: &Event) {
//!         if matches!(e, Event::Advance { .. }) {
//!             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         }
//!     }
//! }
//! ```

/// What a long operation reports. `stage` is a short label that names the operation
/// (`search`, `validate`, `measure`, `train <id>`); events of one stage come in the order
/// `Begin`, any number of `Advance`, `End`. Several stages may be open at once (measurements in
/// parallel), so an observer must be thread-safe.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// A stage of `total` steps (unknown for a time budget) begins.
    Begin {
        /// The stage's label.
        stage: &'a str,
        /// Steps in total, when known.
        total: Option<u64>,
        /// Steps already done (a resumed operation).
        done: u64,
    },
    /// The stage has done `done` steps in total.
    Advance {
        /// The stage's label.
        stage: &'a str,
        /// Steps done so far.
        done: u64,
        /// A short status line (may be empty).
        message: &'a str,
    },
    /// The stage is over.
    End {
        /// The stage's label.
        stage: &'a str,
    },
    /// Something the user should read that is not an error of the operation as a whole (one
    /// line), e.g. a measurement that failed and was skipped.
    Note(&'a str),
}

/// Receives the progress of long operations.
pub trait Observer: Sync {
    /// Called for every event.
    fn event(&self, event: &Event);
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event) {}
}

/// A stage reported to an observer: `Begin` on creation, `End` when dropped.
pub struct Stage<'o> {
    observer: &'o dyn Observer,
    label: String,
}

impl<'o> Stage<'o> {
    /// Begins `label` with `total` steps of which `done` are already done.
    pub fn begin(
        observer: &'o dyn Observer,
        label: impl Into<String>,
        total: Option<u64>,
        done: u64,
    ) -> Self {
        let label = label.into();
        observer.event(&Event::Begin {
            stage: &label,
            total,
            done,
        });
        Stage { observer, label }
    }

    /// Reports `done` steps with a status message.
    pub fn advance(&self, done: u64, message: &str) {
        self.observer.event(&Event::Advance {
            stage: &self.label,
            done,
            message,
        });
    }

    /// A note for the user.
    pub fn note(&self, line: &str) {
        self.observer.event(&Event::Note(line));
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        self.observer.event(&Event::End { stage: &self.label });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);
    impl Observer for Log {
        fn event(&self, e: &Event) {
            self.0.lock().unwrap().push(format!("{e:?}"));
        }
    }

    #[test]
    fn stage_begins_advances_and_ends() {
        let log = Log::default();
        {
            let s = Stage::begin(&log, "search", Some(3), 1);
            s.advance(2, "front 4");
            s.note("hello");
        }
        let v = log.0.into_inner().unwrap();
        assert_eq!(v.len(), 4);
        assert!(v[0].starts_with("Begin"));
        assert!(v[3].starts_with("End"));
    }
}
