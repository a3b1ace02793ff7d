//! The seam between the store's queries and its two engines: SQLite (one box) and PostgreSQL
//! (a cluster, issue 18).
//!
//! Every query in `store/` is written once against [`Db`], whose API follows rusqlite's
//! (`prepare_cached`, `query_row`, `params!`, `optional()`), in the SQL both engines accept:
//! `?N` placeholders (rewritten to `$N` for PostgreSQL), `RETURNING`, `ON CONFLICT`, integers
//! for booleans. Where the engines truly differ (full-text search, upserts of a special kind,
//! catalogue queries) a function asks [`Db::engine`] and runs each engine's own SQL. Values are
//! read and bound through one small dynamic type ([`ValueRef`]), so a column read as `bool`
//! works whether the engine stored it as an integer or a boolean.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{IsNull, Type};

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database connection (or the transaction the caller is inside), either engine.
#[derive(Clone, Copy)]
pub struct Db<'a>(Inner<'a>);

#[derive(Clone, Copy)]
enum Inner<'a> {
    Lite(&'a rusqlite::Connection),
    Pg(&'a PgConn),
}

/// A PostgreSQL connection with its prepared statements, used by one thread at a time.
pub struct PgConn {
    /// Always `Some` until dropped (see `Drop`).
    client: RefCell<Option<postgres::Client>>,
    /// Whether a transaction begun through [`PgConn::batch`] is open.
    in_transaction: std::cell::Cell<bool>,
    /// Prepared once per connection, keyed by the store's SQL text.
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConn {
    pub fn new(client: postgres::Client) -> PgConn {
        PgConn {
            client: RefCell::new(Some(client)),
            in_transaction: std::cell::Cell::new(false),
            statements: RefCell::new(HashMap::new()),
        }
    }

    pub fn db(&self) -> Db<'_> {
        Db(Inner::Pg(self))
    }

    /// Runs statements that take no parameters (transaction control, schema).
    pub fn batch(&self, sql: &str) -> Result<()> {
        let head = sql.trim_start().get(..8).unwrap_or("").to_ascii_uppercase();
        let result = self.client()?.batch_execute(sql);
        if head.starts_with("BEGIN") || head.starts_with("START TR") {
            // Open even when a statement after BEGIN in the same batch failed: the transaction
            // is then aborted, and only a ROLLBACK makes the connection usable again (a
            // ROLLBACK with none open is a warning, not an error).
            self.in_transaction.set(true);
        } else if head.starts_with("COMMIT")
            || head.starts_with("ROLLBACK")
            || head.starts_with("END")
        {
            self.in_transaction.set(false);
        }
        Ok(result?)
    }

    pub fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().as_ref().is_none_or(|c| c.is_closed())
    }

    fn client(&self) -> Result<std::cell::RefMut<'_, postgres::Client>> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut)
            .map_err(|_| Error::NoRows)
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client()?.prepare(&postgres_placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), prepared.clone());
        Ok(prepared)
    }
}

impl Drop for PgConn {
    /// Closing a client runs its own small runtime, which may not start on a thread of the
    /// server's runtime (where the last handle to the store may go): it is closed on a thread
    /// of its own there.
    fn drop(&mut self) {
        let Some(client) = self.client.get_mut().take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::Builder::new()
                .name("outpost-db-close".into())
                .spawn(move || drop(client));
        }
    }
}

impl<'a> From<&'a rusqlite::Connection> for Db<'a> {
    fn from(c: &'a rusqlite::Connection) -> Self {
        Db(Inner::Lite(c))
    }
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no rows")]
    NoRows,
    #[error("text with a NUL character cannot be stored")]
    Nul,
    /// A stored value could not be read as the type asked for (damaged or unexpected data).
    #[error("column {column}: {problem}")]
    Column { column: usize, problem: String },
}

/// PostgreSQL's own words for a refusal ("db error" alone says nothing).
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    }
}

impl Error {
    /// A uniqueness (or other integrity) constraint refused the change.
    pub fn is_constraint(&self) -> bool {
        match self {
            Error::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::ConstraintViolation)
            ),
            Error::Postgres(e) => e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::UNIQUE_VIOLATION
                    || *c == postgres::error::SqlState::FOREIGN_KEY_VIOLATION
                    || *c == postgres::error::SqlState::CHECK_VIOLATION
                    || *c == postgres::error::SqlState::NOT_NULL_VIOLATION
            }),
            _ => false,
        }
    }

    /// The row was there but a value in it could not be decoded.
    pub fn is_decode(&self) -> bool {
        match self {
            Error::Column { .. } => true,
            Error::Sqlite(e) => matches!(
                e,
                rusqlite::Error::FromSqlConversionFailure(..)
                    | rusqlite::Error::InvalidColumnType(..)
                    | rusqlite::Error::Utf8Error(..)
                    | rusqlite::Error::IntegralValueOutOfRange(..)
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl<'a> Db<'a> {
    pub fn engine(&self) -> Engine {
        match self.0 {
            Inner::Lite(_) => Engine::Sqlite,
            Inner::Pg(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, for the few things only SQLite has (PRAGMAs, its catalogue).
    pub fn sqlite(&self) -> Option<&'a rusqlite::Connection> {
        match self.0 {
            Inner::Lite(c) => Some(c),
            Inner::Pg(_) => None,
        }
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'a>> {
        Ok(Stmt(match self.0 {
            Inner::Lite(c) => StmtInner::Lite(c.prepare_cached(sql)?),
            Inner::Pg(p) => StmtInner::Pg(p, p.statement(sql)?),
        }))
    }

    /// Prepares without keeping the statement (SQL built at run time).
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'a>> {
        Ok(Stmt(match self.0 {
            Inner::Lite(c) => StmtInner::LiteOnce(c.prepare(sql)?),
            Inner::Pg(p) => StmtInner::Pg(p, p.client()?.prepare(&postgres_placeholders(sql))?),
        }))
    }

    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs statements without parameters, one after another.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self.0 {
            Inner::Lite(c) => Ok(c.execute_batch(sql)?),
            Inner::Pg(p) => p.batch(sql),
        }
    }

    /// Calls `f` with each row as it arrives (large tables are never held in memory whole);
    /// `f` must not use the database itself.
    pub fn for_each_row(&self, sql: &str, mut f: impl FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        match self.0 {
            Inner::Lite(c) => {
                let mut stmt = c.prepare(sql)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    f(&Row(RowInner::Lite(r)))?;
                }
                Ok(())
            }
            Inner::Pg(p) => {
                use postgres::fallible_iterator::FallibleIterator;
                let stmt = p.client()?.prepare(&postgres_placeholders(sql))?;
                let mut client = p.client()?;
                let mut rows = client.query_raw(&stmt, std::iter::empty::<Pg<'_>>())?;
                while let Some(r) = rows.next()? {
                    f(&Row(RowInner::Pg(&r)))?;
                }
                Ok(())
            }
        }
    }

    /// The id the last `INSERT` gave its row on this connection.
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match self.0 {
            Inner::Lite(c) => Ok(c.last_insert_rowid()),
            // Every table's id is an identity column: `lastval()` is the id just taken.
            Inner::Pg(_) => self.query_row("SELECT lastval()", [], |r| r.get(0)),
        }
    }
}

/// A prepared statement.
pub struct Stmt<'a>(StmtInner<'a>);

enum StmtInner<'a> {
    Lite(rusqlite::CachedStatement<'a>),
    LiteOnce(rusqlite::Statement<'a>),
    Pg(&'a PgConn, postgres::Statement),
}

impl<'a> Stmt<'a> {
    fn lite(&mut self) -> Option<&mut rusqlite::Statement<'a>> {
        match &mut self.0 {
            StmtInner::Lite(s) => Some(s),
            StmtInner::LiteOnce(s) => Some(s),
            StmtInner::Pg(..) => None,
        }
    }

    pub fn execute(&mut self, params: impl Params) -> Result<usize> {
        if let StmtInner::Pg(conn, stmt) = &self.0 {
            let n = params.bind(|p| {
                if has_nul(p) {
                    return Err(Error::Nul);
                }
                let values = pg_params(p);
                Ok(conn.client()?.execute(stmt, &pg_refs(&values))?)
            })?;
            return Ok(usize::try_from(n).unwrap_or(usize::MAX));
        }
        let Some(s) = self.lite() else {
            return Err(Error::NoRows);
        };
        Ok(params.bind(|p| s.execute(rusqlite::params_from_iter(p.iter().map(|v| Lite(*v)))))?)
    }

    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        if let StmtInner::Pg(conn, stmt) = &self.0 {
            let rows = params.bind(|p| pg_query(conn, stmt, p))?;
            let row = rows.first().ok_or(Error::NoRows)?;
            return f(&Row(RowInner::Pg(row)));
        }
        let Some(s) = self.lite() else {
            return Err(Error::NoRows);
        };
        params.bind(|p| {
            let mut rows = s.query(rusqlite::params_from_iter(p.iter().map(|v| Lite(*v))))?;
            match rows.next()? {
                Some(r) => f(&Row(RowInner::Lite(r))),
                None => Err(Error::NoRows),
            }
        })
    }

    /// Every row, mapped. Rows are read in full before this returns.
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        if let StmtInner::Pg(conn, stmt) = &self.0 {
            let rows = params.bind(|p| pg_query(conn, stmt, p))?;
            let out: Vec<Result<T>> = rows.iter().map(|r| f(&Row(RowInner::Pg(r)))).collect();
            return Ok(out.into_iter());
        }
        let Some(s) = self.lite() else {
            return Err(Error::NoRows);
        };
        params.bind(|p| {
            let mut rows = s.query(rusqlite::params_from_iter(p.iter().map(|v| Lite(*v))))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(f(&Row(RowInner::Lite(r))));
            }
            Ok(out.into_iter())
        })
    }

    /// Whether the query returns at least one row.
    pub fn exists(&mut self, params: impl Params) -> Result<bool> {
        match self.query_row(params, |_| Ok(())) {
            Ok(()) => Ok(true),
            Err(Error::NoRows) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of the result's columns.
    pub fn column_names(&self) -> Vec<String> {
        match &self.0 {
            StmtInner::Lite(s) => s.column_names().map(str::to_string).collect(),
            StmtInner::LiteOnce(s) => s.column_names().map(str::to_string).collect(),
            StmtInner::Pg(_, s) => s.columns().iter().map(|c| c.name().to_string()).collect(),
        }
    }
}

/// One result row.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    pub fn get<I: ColumnIndex, T: FromValue>(&self, idx: I) -> Result<T> {
        let i = idx.index();
        let column = |problem: String| Error::Column { column: i, problem };
        let value = self.get_ref(i)?;
        T::from_value(value).map_err(column)
    }

    pub fn get_ref(&self, i: usize) -> Result<ValueRef<'_>> {
        match &self.0 {
            RowInner::Lite(r) => Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(v) => ValueRef::Integer(v),
                rusqlite::types::ValueRef::Real(v) => ValueRef::Real(v),
                rusqlite::types::ValueRef::Text(v) => ValueRef::Text(v),
                rusqlite::types::ValueRef::Blob(v) => ValueRef::Blob(v),
            }),
            RowInner::Pg(r) => pg_value(r, i),
        }
    }

    pub fn column_count(&self) -> usize {
        match &self.0 {
            RowInner::Lite(r) => r.as_ref().column_count(),
            RowInner::Pg(r) => r.len(),
        }
    }
}

/// A column's place in a row (only `usize`, so a literal `0` needs no suffix).
pub trait ColumnIndex {
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// A value as either engine hands it over (text as bytes, checked when read as a string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

fn pg_value(r: &postgres::Row, i: usize) -> Result<ValueRef<'_>> {
    let ty = r
        .columns()
        .get(i)
        .ok_or_else(|| Error::Column {
            column: i,
            problem: "no such column".into(),
        })?
        .type_()
        .clone();
    let int = |v: Option<i64>| v.map_or(ValueRef::Null, ValueRef::Integer);
    Ok(match ty {
        Type::INT8 => int(r.try_get::<_, Option<i64>>(i)?),
        Type::INT4 => int(r.try_get::<_, Option<i32>>(i)?.map(i64::from)),
        Type::INT2 => int(r.try_get::<_, Option<i16>>(i)?.map(i64::from)),
        Type::OID => int(r.try_get::<_, Option<u32>>(i)?.map(i64::from)),
        Type::BOOL => int(r.try_get::<_, Option<bool>>(i)?.map(i64::from)),
        Type::FLOAT8 => r
            .try_get::<_, Option<f64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(i)?
            .map_or(ValueRef::Null, |v| ValueRef::Real(f64::from(v))),
        Type::BYTEA => r
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(ValueRef::Null, ValueRef::Blob),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR | Type::UNKNOWN => r
            .try_get::<_, Option<&str>>(i)?
            .map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())),
        other => {
            return Err(Error::Column {
                column: i,
                problem: format!("the store does not read PostgreSQL type {other}"),
            })
        }
    })
}

/// A value of any column, owned (backups, moving a site to PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl FromValue for Value {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(n) => Value::Real(n),
            // Damaged text is kept as readable as it can be rather than stopping a backup.
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

impl ToValue for Value {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(n) => ValueRef::Integer(*n),
            Value::Real(n) => ValueRef::Real(*n),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// A Rust type the store reads from a column.
pub trait FromValue: Sized {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String>;
}

fn wrong(v: ValueRef<'_>, wanted: &str) -> String {
    let found = match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real number",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    };
    format!("expected {wanted}, found {found}")
}

impl FromValue for i64 {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Integer(n) => Ok(n),
            _ => Err(wrong(v, "an integer")),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
                let n = i64::from_value(v)?;
                <$t>::try_from(n).map_err(|_| format!("{n} is out of range"))
            }
        }
    )*};
}
from_int!(i32, u32, u64, usize, u16, u8);

impl FromValue for bool {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        Ok(i64::from_value(v)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Real(n) => Ok(n),
            ValueRef::Integer(n) => Ok(n as f64),
            _ => Err(wrong(v, "a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Text(b) => std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|e| format!("is not valid UTF-8 text: {e}")),
            _ => Err(wrong(v, "text")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            _ => Err(wrong(v, "a blob")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>) -> std::result::Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A Rust value the store binds to a placeholder.
pub trait ToValue {
    fn to_value(&self) -> ValueRef<'_>;
}

macro_rules! to_int {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> ValueRef<'_> {
                ValueRef::Integer(*self as i64)
            }
        }
    )*};
}
// Values above i64::MAX cannot be stored by either engine; the store never makes them.
to_int!(i64, i32, i16, u32, u16, u8, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}

impl ToValue for String {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}

impl ToValue for std::borrow::Cow<'_, str> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_bytes())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> ValueRef<'_> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_value(),
            None => ValueRef::Null,
        }
    }
}

impl ToValue for ValueRef<'_> {
    fn to_value(&self) -> ValueRef<'_> {
        *self
    }
}

/// The parameters of one statement.
pub trait Params {
    fn bind<R>(self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R;
}

impl Params for &[&dyn ToValue] {
    fn bind<R>(self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        f(self)
    }
}

impl Params for [&dyn ToValue; 0] {
    fn bind<R>(self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        f(&[])
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn bind<R>(self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
                let refs: Vec<&dyn ToValue> = self.iter().map(|v| v as &dyn ToValue).collect();
                f(&refs)
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// Parameters from an iterator (an `IN (?, ?, …)` list).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    fn bind<R>(self, f: impl FnOnce(&[&dyn ToValue]) -> R) -> R {
        let values: Vec<I::Item> = self.0.into_iter().collect();
        let refs: Vec<&dyn ToValue> = values.iter().map(|v| v as &dyn ToValue).collect();
        f(&refs)
    }
}

/// `params![a, b, c]`: parameters of mixed types, as rusqlite's macro.
#[macro_export]
macro_rules! db_params {
    () => { &[] as &[&dyn $crate::store::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::db::ToValue),+] as &[&dyn $crate::store::db::ToValue] };
}
pub use crate::db_params as params;

/// Treats "no rows" as `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Binds a value for SQLite.
struct Lite<'a>(&'a dyn ToValue);

impl rusqlite::ToSql for Lite<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as V};
        Ok(ToSqlOutput::Borrowed(match self.0.to_value() {
            ValueRef::Null => V::Null,
            ValueRef::Integer(n) => V::Integer(n),
            ValueRef::Real(n) => V::Real(n),
            ValueRef::Text(t) => V::Text(t),
            ValueRef::Blob(b) => V::Blob(b),
        }))
    }
}

/// Binds a value for PostgreSQL, in whatever type the server inferred for its placeholder.
#[derive(Debug)]
struct Pg<'a>(ValueRef<'a>);

/// PostgreSQL text cannot hold U+0000 (SQLite's can). No stored value has one, so a query
/// looking for one finds nothing; a write carrying one is refused.
fn has_nul(p: &[&dyn ToValue]) -> bool {
    p.iter()
        .any(|v| matches!(v.to_value(), ValueRef::Text(t) if t.contains(&0)))
}

fn pg_query(
    conn: &PgConn,
    stmt: &postgres::Statement,
    p: &[&dyn ToValue],
) -> Result<Vec<postgres::Row>> {
    if has_nul(p) {
        return Ok(Vec::new());
    }
    let values = pg_params(p);
    Ok(conn.client()?.query(stmt, &pg_refs(&values))?)
}

fn pg_params<'v>(p: &'v [&'v dyn ToValue]) -> Vec<Pg<'v>> {
    p.iter().map(|v| Pg(v.to_value())).collect()
}

fn pg_refs<'v>(values: &'v [Pg<'v>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl postgres::types::ToSql for Pg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot bind {:?} as {ty}", self.0).into()
        };
        match (self.0, ty) {
            (ValueRef::Null, _) => Ok(IsNull::Yes),
            (ValueRef::Integer(n), &Type::INT8) => n.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (ValueRef::Integer(n), &Type::BOOL) => (n != 0).to_sql(ty, out),
            (ValueRef::Integer(n), &Type::FLOAT8) => (n as f64).to_sql(ty, out),
            (ValueRef::Integer(n), &Type::TEXT | &Type::VARCHAR) => n.to_string().to_sql(ty, out),
            (ValueRef::Real(n), &Type::FLOAT8) => n.to_sql(ty, out),
            (ValueRef::Real(n), &Type::FLOAT4) => (n as f32).to_sql(ty, out),
            (ValueRef::Text(t), &Type::TEXT | &Type::VARCHAR | &Type::NAME | &Type::BPCHAR) => {
                std::str::from_utf8(t)?.to_sql(ty, out)
            }
            (ValueRef::Text(t) | ValueRef::Blob(t), &Type::BYTEA) => t.to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Rewrites SQLite's `?N` (and bare `?`) placeholders as PostgreSQL's `$N`, leaving quoted text
/// alone.
pub fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    let mut next = 0u32;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            continue;
        }
        if c != '?' || quoted {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        out.push('$');
        if digits.is_empty() {
            next += 1;
            out.push_str(&next.to_string());
        } else {
            out.push_str(&digits);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes() {
        assert_eq!(
            postgres_placeholders("SELECT a FROM t WHERE b = ?2 AND c = '?' AND d IN (?, ?)"),
            "SELECT a FROM t WHERE b = $2 AND c = '?' AND d IN ($1, $2)"
        );
        assert_eq!(postgres_placeholders("?10 ?1"), "$10 $1");
    }

    #[test]
    fn sqlite_reads_and_binds_through_the_seam() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let db = Db::from(&c);
        db.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, s TEXT, x BLOB)")
            .unwrap();
        db.execute(
            "INSERT INTO t(b, s, x) VALUES (?1, ?2, ?3)",
            params![true, "é", vec![1u8, 2]],
        )
        .unwrap();
        let id = db.last_insert_rowid().unwrap();
        let (b, s, x): (bool, String, Vec<u8>) = db
            .query_row("SELECT b, s, x FROM t WHERE id = ?1", [id], |r| {
                Ok((r.get(0usize)?, r.get(1usize)?, r.get(2usize)?))
            })
            .unwrap();
        assert!(b);
        assert_eq!(s, "é");
        assert_eq!(x, vec![1, 2]);
        let none = db
            .query_row("SELECT s FROM t WHERE id = ?1", [id + 1], |r| {
                r.get::<_, String>(0usize)
            })
            .optional()
            .unwrap();
        assert!(none.is_none());
        let err = db
            .query_row("SELECT s FROM t", [], |r| r.get::<_, i64>(0usize))
            .unwrap_err();
        assert!(err.is_decode(), "{err}");
    }
}
