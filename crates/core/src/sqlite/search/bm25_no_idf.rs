//! `bm25_no_idf`, an FTS5 auxiliary function: FTS5's `bm25` with every phrase weighted alike.
//!
//! FTS5's `bm25` multiplies each phrase's term by its inverse document frequency, and to get
//! it reads the phrase's whole match list once per statement, so its cost grows with the
//! store. A search ranks only the newest matches of all its words, and among them every word
//! is in every match. Counted among them, each word's document frequency is the same and
//! weighs nothing in the order.
//!
//! This function scores as `bm25` does with an inverse document frequency of 1 for every
//! phrase. It reads only the current row's match positions and token count, and the table's
//! row and token totals once per statement. Its arguments are `bm25`'s: the table, then one
//! weight per column (1.0 for a column without one).
//!
//! rusqlite has no binding for FTS5's extension API, so this module calls it through
//! `rusqlite::ffi`.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;

use rusqlite::{Connection, ffi};

use crate::error::{Error, Result};

/// The SQL name of the function.
const NAME: &CStr = c"bm25_no_idf";

/// The constants of FTS5's `bm25`: `k1` bounds what repeating a word adds, and `b` is how
/// much a longer item is marked down.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Adds `bm25_no_idf` to the FTS5 tables of `conn`.
///
/// # Errors
///
/// Returns [`Error::Storage`] when the connection has no FTS5 or SQLite rejects the function.
pub(in crate::sqlite) fn register(conn: &Connection) -> Result<()> {
    let api = fts5_api(conn)?;

    // SAFETY: `api` came from FTS5 on this connection and stays valid while it is open.
    // `NAME` is a static C string, the function needs no user data and so no destructor.
    let code = unsafe {
        let create = (*api).xCreateFunction.ok_or_else(no_fts5)?;
        create(api, NAME.as_ptr(), ptr::null_mut(), Some(bm25_no_idf), None)
    };
    check(code)
}

/// Returns FTS5's extension API of `conn`. SQLite's `fts5()` SQL function writes it through
/// a pointer bound to its parameter with the type `fts5_api_ptr`.
fn fts5_api(conn: &Connection) -> Result<*mut ffi::fts5_api> {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut statement: *mut ffi::sqlite3_stmt = ptr::null_mut();

    // SAFETY: the handle is the open connection's, and the statement is finalized before
    // returning. `api` outlives the statement that writes to it.
    let failure = unsafe {
        let db = conn.handle();
        let sql = c"SELECT fts5(?1)";
        let mut code =
            ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut statement, ptr::null_mut());
        if code == ffi::SQLITE_OK {
            let target = (&raw mut api).cast::<c_void>();
            code = ffi::sqlite3_bind_pointer(statement, 1, target, c"fts5_api_ptr".as_ptr(), None);
        }
        if code == ffi::SQLITE_OK && ffi::sqlite3_step(statement) != ffi::SQLITE_ROW {
            code = ffi::sqlite3_errcode(db);
        }
        // The message belongs to the connection, so it is read before finalizing.
        let failure = (code != ffi::SQLITE_OK).then(|| {
            let message = CStr::from_ptr(ffi::sqlite3_errmsg(db));
            (code, message.to_string_lossy().into_owned())
        });
        ffi::sqlite3_finalize(statement);
        failure
    };

    if let Some((code, message)) = failure {
        return Err(sqlite_failure(code, Some(message)));
    }
    if api.is_null() {
        return Err(no_fts5());
    }
    Ok(api)
}

/// The function that FTS5 calls for each row: sets the row's score as the result, lower
/// for a better match, or an error code when FTS5 reports one.
unsafe extern "C" fn bm25_no_idf(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    result: *mut ffi::sqlite3_context,
    weight_count: c_int,
    weights: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes its API, the context of the current row, and `weight_count`
    // argument values, all valid for this call.
    unsafe {
        let weights = Weights {
            values: weights,
            count: weight_count,
        };
        match score(&*api, fts, &weights) {
            Ok(score) => ffi::sqlite3_result_double(result, score),
            Err(code) => ffi::sqlite3_result_error_code(result, code),
        }
    }
}

/// The column weights that the SQL call passes after the table.
struct Weights {
    values: *mut *mut ffi::sqlite3_value,
    count: c_int,
}

impl Weights {
    /// Returns the weight of `column`, 1.0 when the call gives none.
    ///
    /// # Safety
    ///
    /// `values` must point to `count` valid values.
    unsafe fn of(&self, column: c_int) -> f64 {
        if !(0..self.count).contains(&column) {
            return 1.0;
        }
        // SAFETY: `column` is within the `count` values, as the caller promised.
        unsafe { ffi::sqlite3_value_double(*self.values.add(column as usize)) }
    }
}

/// Scores the current row as `bm25` does with an inverse document frequency of 1.
///
/// # Safety
///
/// `api` and `fts` must be those that FTS5 passed for the current row, and `weights` must
/// hold the values of that call.
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    weights: &Weights,
) -> std::result::Result<f64, c_int> {
    let (Some(inst_count), Some(inst), Some(column_size)) =
        (api.xInstCount, api.xInst, api.xColumnSize)
    else {
        return Err(ffi::SQLITE_MISUSE);
    };
    // SAFETY (every block below): the calls are FTS5's own, made with the context and
    // values that it passed, as the caller promised, and with pointers to locals.
    let statement = unsafe { statement_data(api, fts)? };

    // Each phrase's frequency in the row: its matches, each counted with its column's weight.
    let frequencies = &mut statement.frequencies;
    frequencies.fill(0.0);
    let mut instances = 0;
    status(unsafe { inst_count(fts, &mut instances) })?;
    for index in 0..instances {
        let (mut phrase, mut column, mut offset) = (0, 0, 0);
        status(unsafe { inst(fts, index, &mut phrase, &mut column, &mut offset) })?;

        let frequency = usize::try_from(phrase)
            .ok()
            .and_then(|phrase| frequencies.get_mut(phrase))
            .ok_or(ffi::SQLITE_CORRUPT_VTAB)?;
        *frequency += unsafe { weights.of(column) };
    }

    let mut row_tokens = 0;
    status(unsafe { column_size(fts, -1, &mut row_tokens) })?;
    let length_factor = K1 * (1.0 - B + B * f64::from(row_tokens) / statement.average_tokens);
    let sum: f64 = frequencies
        .iter()
        .map(|frequency| frequency * (K1 + 1.0) / (frequency + length_factor))
        .sum();
    Ok(-sum)
}

/// State that the function keeps from one row of a statement to the next, as FTS5's `bm25`
/// does: the table's totals, which FTS5 reads from a record of its data table at each
/// request, and the buffer of phrase frequencies.
struct StatementData {
    /// The average number of tokens in a row of the table, over all its columns.
    average_tokens: f64,
    /// One frequency per phrase of the query, rewritten for each row.
    frequencies: Vec<f64>,
}

/// Returns the [`StatementData`] of the statement that `fts` belongs to, made at its first
/// row and kept by FTS5 until the statement ends.
///
/// # Safety
///
/// As for [`score`]. The returned reference is valid for the current row only.
unsafe fn statement_data<'a>(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> std::result::Result<&'a mut StatementData, c_int> {
    let (Some(get_auxdata), Some(set_auxdata), Some(phrase_count)) =
        (api.xGetAuxdata, api.xSetAuxdata, api.xPhraseCount)
    else {
        return Err(ffi::SQLITE_MISUSE);
    };

    // SAFETY: a pointer that FTS5 keeps for this function is only ever one that
    // `Box::into_raw` made below, and FTS5 runs one call of the function at a time.
    let existing = unsafe { get_auxdata(fts, 0) }.cast::<StatementData>();
    if let Some(existing) = unsafe { existing.as_mut() } {
        return Ok(existing);
    }

    // SAFETY: as for `score`.
    let phrases =
        usize::try_from(unsafe { phrase_count(fts) }).map_err(|_| ffi::SQLITE_CORRUPT_VTAB)?;
    let data = Box::into_raw(Box::new(StatementData {
        average_tokens: unsafe { average_tokens(api, fts)? },
        frequencies: vec![0.0; phrases],
    }));
    // SAFETY: FTS5 owns `data` from here on, and frees it with `drop_statement_data` when
    // the statement ends or when keeping it fails.
    status(unsafe { set_auxdata(fts, data.cast(), Some(drop_statement_data)) })?;
    Ok(unsafe { &mut *data })
}

/// Frees a [`StatementData`] that FTS5 kept.
///
/// # Safety
///
/// `data` must come from `Box::into_raw` in [`statement_data`], and FTS5 calls this once.
unsafe extern "C" fn drop_statement_data(data: *mut c_void) {
    // SAFETY: as the caller promised.
    drop(unsafe { Box::from_raw(data.cast::<StatementData>()) });
}

/// Returns the average number of tokens in a row of the table, over all its columns.
///
/// # Safety
///
/// As for [`score`].
unsafe fn average_tokens(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> std::result::Result<f64, c_int> {
    let (Some(row_count), Some(total_size)) = (api.xRowCount, api.xColumnTotalSize) else {
        return Err(ffi::SQLITE_MISUSE);
    };
    let (mut rows, mut tokens) = (0_i64, 0_i64);
    // SAFETY: as for `score`, with pointers to locals.
    status(unsafe { row_count(fts, &mut rows) })?;
    status(unsafe { total_size(fts, -1, &mut tokens) })?;

    // A table with a matching row has a row and a token, so other totals are corrupt.
    if rows <= 0 || tokens <= 0 {
        return Err(ffi::SQLITE_CORRUPT_VTAB);
    }
    Ok(tokens as f64 / rows as f64)
}

/// Turns an SQLite result code into `Err` unless it is `SQLITE_OK`.
fn status(code: c_int) -> std::result::Result<(), c_int> {
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(code)
    }
}

/// Turns an SQLite result code of the registration into this crate's error.
fn check(code: c_int) -> Result<()> {
    status(code).map_err(|code| sqlite_failure(code, None))
}

/// Returns the error for a connection whose SQLite offers no FTS5 API.
fn no_fts5() -> Error {
    let message = "SQLite has no FTS5 extension API".to_owned();
    sqlite_failure(ffi::SQLITE_ERROR, Some(message))
}

/// Returns the storage error for an SQLite result code and its message, as rusqlite reports
/// one.
fn sqlite_failure(code: c_int, message: Option<String>) -> Error {
    Error::Storage(rusqlite::Error::SqliteFailure(
        ffi::Error::new(code),
        message,
    ))
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::register;

    /// Creates an in-memory FTS5 table `t (title, body)` that contains `rows`, with the
    /// function added.
    fn table(rows: &[(&str, &str)]) -> Connection {
        let conn = Connection::open_in_memory().expect("in-memory database");
        register(&conn).expect("register the function");
        conn.execute_batch("CREATE VIRTUAL TABLE t USING fts5 (title, body)")
            .expect("create the table");
        for (title, body) in rows {
            conn.execute("INSERT INTO t (title, body) VALUES (?1, ?2)", [title, body])
                .expect("insert a row");
        }
        conn
    }

    /// Returns the first column of the rows of `sql`, run as a cached statement.
    fn scores(conn: &Connection, sql: &str) -> Vec<f64> {
        let mut statement = conn.prepare_cached(sql).expect("prepare");
        statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("scores")
    }

    #[test]
    fn equals_bm25_over_lowest_idf() {
        // Every row has both words, so bm25 gives each its lowest inverse document
        // frequency, 1e-6. The rows differ in length, in frequency and in column.
        let conn = table(&[
            ("apple pear", "pear pear and several more words"),
            ("apple", "pear"),
            (
                "apple apple pear",
                "one two three four five six seven eight",
            ),
            ("orchard", "an apple and a pear"),
        ]);
        let query = "FROM t WHERE t MATCH 'apple pear' ORDER BY rowid";

        let bm25 = scores(&conn, &format!("SELECT bm25(t, 4.0, 1.0) {query}"));
        let no_idf = scores(&conn, &format!("SELECT bm25_no_idf(t, 4.0, 1.0) {query}"));

        assert_eq!(bm25.len(), 4);
        for (bm25, no_idf) in bm25.iter().zip(&no_idf) {
            let relative = (bm25 / 1e-6 - no_idf).abs() / no_idf.abs();
            assert!(relative < 1e-9, "bm25 {bm25:e}, bm25_no_idf {no_idf:e}");
        }
        assert!(no_idf[2] < no_idf[3], "{no_idf:?}");
    }

    #[test]
    fn weighs_rare_and_common_alike() {
        let conn = table(&[
            ("rare filler", ""),
            ("common filler", ""),
            ("common filler", ""),
            ("common filler", ""),
            ("common filler", ""),
        ]);
        let query = "FROM t WHERE t MATCH 'rare OR common' ORDER BY rowid LIMIT 2";

        let bm25 = scores(&conn, &format!("SELECT bm25(t) {query}"));
        let no_idf = scores(&conn, &format!("SELECT bm25_no_idf(t) {query}"));

        assert!(
            bm25[0] < bm25[1],
            "bm25 ranks the rare word first: {bm25:?}"
        );
        assert_eq!(no_idf[0], no_idf[1]);
        assert!(no_idf[0] < 0.0);
    }

    #[test]
    fn reads_the_totals_again_in_each_run() {
        let conn = table(&[("apple", "pear"), ("apple pear", "")]);
        let sql = "SELECT bm25_no_idf(t) FROM t WHERE t MATCH 'apple' ORDER BY rowid";
        let before = scores(&conn, sql);

        // Longer rows raise the average length, so the same short rows score better.
        for _ in 0..4 {
            conn.execute(
                "INSERT INTO t (title, body) VALUES ('other', 'many more words in this row')",
                [],
            )
            .expect("insert a row");
        }
        let after = scores(&conn, sql);

        assert_eq!(before.len(), 2);
        assert!(after[0] < before[0], "before {before:?}, after {after:?}");
    }
}
