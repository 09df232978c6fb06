//! Opening a connection, session setup included, within a time limit; and
//! telling diesel's instrumentation about it without the password.

use std::sync::mpsc;
use std::time::Duration;

use diesel::ConnectionError;
use diesel::connection::{DynInstrumentation, InstrumentationEvent};
use diesel::r2d2::Error;
use diesel::result::ConnectionResult;

/// Opens a connection with `connect`, reporting its start and end to
/// diesel's default instrumentation with the URL's password replaced by
/// `***`; returns the connection and that instrumentation, for the
/// connection to keep (a diesel connection of triglot's own calls this
/// from its `establish`).
///
/// Instrumentation is the application's code and may log what it is
/// given, so it never sees the password, whatever characters it holds.
///
/// # Errors
///
/// `connect`'s error.
///
/// # Example
///
/// ```
/// use diesel::result::ConnectionResult;
///
/// let (answer, _instrumentation) = triglot_core::establish_reported(
///     "postgres://app@db.example/app",
///     |url| ConnectionResult::Ok(url.starts_with("postgres://")),
/// )?;
/// assert!(answer);
/// # Ok::<_, diesel::ConnectionError>(())
/// ```
pub fn establish_reported<C>(
    url: &str,
    connect: impl FnOnce(&str) -> ConnectionResult<C>,
) -> ConnectionResult<(C, DynInstrumentation)> {
    let shown = crate::url::DatabaseUrl::parse(url)
        .map_or_else(|_| "***".to_owned(), |parsed| parsed.redacted().to_owned());
    let mut instrumentation = DynInstrumentation::default_instrumentation();
    instrumentation.on_connection_event(InstrumentationEvent::start_establish_connection(&shown));
    let result = connect(url);
    instrumentation.on_connection_event(InstrumentationEvent::finish_establish_connection(
        &shown,
        result.as_ref().err(),
    ));
    result.map(|conn| (conn, instrumentation))
}

/// Runs `open` on a thread of its own and waits for it at most `limit`.
///
/// A driver's connect can wait on a silent network far longer than anyone
/// wants: the kernel retries an unanswered SYN for about two minutes, and a
/// handshake whose reply never comes waits until the socket dies. libpq
/// bounds this itself (`connect_timeout`), but diesel gives no way to set
/// libmysqlclient's connect or read timeouts, so the bound is kept here, for
/// every backend alike. Past `limit` the caller gets
/// [`ConnectionError::BadConnection`]; the thread goes on alone and closes
/// what it opens.
///
/// # Errors
///
/// `open`'s error, or the time limit passed, or the thread could not be
/// started or panicked.
pub(crate) fn within<C, F>(limit: Duration, open: F) -> Result<C, Error>
where
    C: Send + 'static,
    F: FnOnce() -> Result<C, Error> + Send + 'static,
{
    let (done, answer) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("triglot-connect".into())
        .spawn(move || {
            // The receiver is gone when the caller stopped waiting; the
            // connection is then dropped here, which closes it.
            let _ = done.send(open());
        })
        .map_err(|e| bad(format!("cannot start a thread to connect: {e}")))?;
    match answer.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(bad(format!("no connection within {limit:?} (the server does not answer)")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(bad("connecting panicked".into())),
    }
}

fn bad(reason: String) -> Error {
    Error::ConnectionError(ConnectionError::BadConnection(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_connect_that_never_answers_fails_at_the_limit() {
        let started = Instant::now();
        let result = within(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        let err = result.expect_err("a connect that does not finish in time fails");
        assert!(err.to_string().contains("no connection within 100ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4), "waited {:?}", started.elapsed());
    }

    #[test]
    fn an_answer_within_the_limit_is_passed_on() {
        assert_eq!(within(Duration::from_secs(5), || Ok(7)).unwrap(), 7);
        let err = within::<(), _>(Duration::from_secs(5), || Err(bad("refused".into())));
        assert!(err.unwrap_err().to_string().contains("refused"));
    }

    #[test]
    fn a_panic_while_connecting_is_an_error() {
        let err = within::<(), _>(Duration::from_secs(5), || panic!("driver bug"));
        assert!(err.unwrap_err().to_string().contains("panicked"));
    }
}
