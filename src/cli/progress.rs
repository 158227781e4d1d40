//! Progress bars: the CLI's [`Observer`], drawn with indicatif on stderr (hidden when stderr is
//! not a terminal, as in CI and tests).

use analognas::progress::{Event, Observer};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;

/// Draws one bar per open stage; notes are printed above the bars.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// Bars on stderr.
    pub fn new() -> Self {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn style(stage: &str, known_total: bool) -> ProgressStyle {
        let template = match (stage, known_total) {
            ("search", _) => "search {bar:30} {pos}/{len} generations [{elapsed}<{eta}] {msg}",
            ("measure", _) => {
                "{spinner} measuring [{bar:30}] {pos}/{len} networks elapsed {elapsed} eta {eta} {msg}"
            }
            (_, true) => "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} steps {msg}",
            (_, false) => "{prefix} [{elapsed_precise}] {spinner} {pos} steps {msg}",
        };
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> ")
    }
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for Bars {
    fn event(&self, event: &Event) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        match *event {
            Event::Begin { stage, total, done } => {
                let bar = match total {
                    Some(n) => ProgressBar::new(n),
                    None => ProgressBar::new_spinner(),
                };
                bar.set_style(Self::style(stage, total.is_some()));
                bar.set_prefix(stage.to_string());
                bar.set_position(done);
                let bar = self.multi.add(bar);
                if let Some(old) = bars.insert(stage.to_string(), bar) {
                    old.finish_and_clear();
                }
            }
            Event::Advance {
                stage,
                done,
                message,
            } => {
                if let Some(b) = bars.get(stage) {
                    b.set_position(done);
                    if !message.is_empty() {
                        b.set_message(message.to_string());
                    }
                }
            }
            Event::End { stage } => {
                if let Some(b) = bars.remove(stage) {
                    b.finish_and_clear();
                    self.multi.remove(&b);
                }
            }
            Event::Note(line) => {
                let _ = self.multi.println(format!("analognas: {line}"));
                if self.multi.is_hidden() {
                    eprintln!("analognas: {line}");
                }
            }
        }
    }
}
