//! Logging: human-readable text by default, JSON lines on request. Under systemd (stderr is the
//! journal, `JOURNAL_STREAM` is set) every line starts with its syslog priority (`<3>` for
//! errors), which journald turns into the entry's priority, and carries no colour codes.

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Whether standard error is connected to the systemd journal.
pub fn under_journal() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some()
}

/// The syslog priority prefix journald reads, or nothing outside the journal.
pub fn priority_prefix(level: Level) -> &'static str {
    if !under_journal() {
        return "";
    }
    match level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        Level::DEBUG | Level::TRACE => "<7>",
    }
}

/// Writes the event's priority prefix, then the event as `inner` formats it.
struct Prioritised<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prioritised<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(priority_prefix(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// Installs the global subscriber once; later calls (tests) are ignored. `RUST_LOG` overrides
/// the configured level.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal: the journal and files store the escape codes raw.
    let ansi = std::io::stderr().is_terminal() && !under_journal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = match config.format {
        LogFormat::Json => {
            let format = tracing_subscriber::fmt::format()
                .json()
                .flatten_event(true)
                .with_target(false);
            builder.json().event_format(Prioritised(format)).try_init()
        }
        LogFormat::Text => {
            let format = tracing_subscriber::fmt::format()
                .with_ansi(ansi)
                .with_target(false);
            builder.event_format(Prioritised(format)).try_init()
        }
    };
}
