//! The HTTP client behind the generated per-domain clients (`<domain>::client`): a base URL with
//! default headers (a bearer token, an API key), and a request builder that writes parameters
//! and bodies the way the generated server reads them. Failures come back as [`Error`], with
//! problem+json answers parsed into [`Problem`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), archgen_runtime::client::Error> {
//! use archgen_runtime::client::{Client, Filter, ListParams};
//! let client = Client::new("http://127.0.0.1:8080").with_bearer("token");
//! let params = ListParams::new()
//!     .limit(10)
//!     .desc("createdAt")
//!     .filter(Filter::starts_with("name", "team-"));
//! let page: archgen_runtime::Page<serde_json::Value> = client
//!     .request(archgen_runtime::client::Method::GET, "/labels")
//!     .list(&params)
//!     .send()
//!     .await?
//!     .json()?;
//! # let _ = page;
//! # Ok(())
//! # }
//! ```

use std::fmt::Display;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use reqwest;
pub use reqwest::Method;

use crate::error::FieldError;
use crate::filter::Op;
use crate::http::RawBody;
use crate::repo::{Page, PageMeta, SortOrder};

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with an error status and a problem+json body (boxed, so that every
    /// `Result` stays small).
    #[error("{status} {}", describe(.problem))]
    Problem { status: u16, problem: Box<Problem> },
    /// The service answered with an error status and a body that is not problem+json.
    #[error("unexpected answer {status}: {body}")]
    Unexpected { status: u16, body: String },
    /// The request did not get an answer: connection refused, timeout, bad URL.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// A successful answer whose body is not what the operation declares.
    #[error("cannot decode the answer: {0}")]
    Decode(#[source] serde_json::Error),
    /// The request could not be built: a header value that is not visible ASCII, a parameter
    /// that does not serialise, a path parameter left unfilled.
    #[error("cannot build the request: {0}")]
    Encode(String),
}

impl Error {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Problem { status, .. } | Error::Unexpected { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Decode(_) | Error::Encode(_) => None,
        }
    }

    /// The problem+json body of an error answer.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// An RFC 9457 problem details body, as the generated services write them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `type`: a URI naming the kind of problem (`about:blank` from archgen services).
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    /// The status repeated in the body; 0 when the body leaves it out.
    #[serde(default)]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The failing fields of a validation error (and the fields of a unique conflict).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

fn describe(problem: &Problem) -> String {
    match &problem.detail {
        Some(detail) => format!("{}: {detail}", problem.title),
        None => problem.title.clone(),
    }
}

fn about_blank() -> String {
    "about:blank".into()
}

impl Problem {
    /// The message for `field`, if the problem names it.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

// The server only writes these; a client reads them back.
impl<'de> Deserialize<'de> for FieldError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            field: String,
            message: String,
        }
        let Wire { field, message } = Wire::deserialize(d)?;
        Ok(FieldError { field, message })
    }
}

impl<'de> Deserialize<'de> for PageMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            total: u64,
            #[serde(rename = "nextCursor", default)]
            next_cursor: Option<String>,
        }
        let Wire { total, next_cursor } = Wire::deserialize(d)?;
        Ok(PageMeta { total, next_cursor })
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(bound = "T: Deserialize<'de>")]
        struct Wire<T> {
            data: Vec<T>,
            meta: PageMeta,
        }
        let Wire { data, meta } = Wire::deserialize(d)?;
        Ok(Page { data, meta })
    }
}

/// An entity read or written with optimistic locking, with the ETag to send back as `If-Match`.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    /// The ETag of the answer, such as `"3"`.
    pub etag: Option<String>,
}

impl<T> Versioned<T> {
    pub fn into_inner(self) -> T {
        self.value
    }

    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The version an archgen ETag (`"<version>"`) carries.
    pub fn version(&self) -> Option<i64> {
        self.etag
            .as_deref()?
            .strip_prefix('"')?
            .strip_suffix('"')?
            .parse()
            .ok()
    }
}

impl<T> std::ops::Deref for Versioned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Where a service lives and how every request to it is authenticated. Cheap to clone: clones
/// share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    headers: HeaderMap,
    /// A default header that could not be set, reported by every request.
    invalid: Option<String>,
}

impl Client {
    /// A client of the service at `base` (`http://host:port`, optionally with a path prefix).
    pub fn new(base: impl Into<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_string();
        Self {
            base,
            http: reqwest::Client::new(),
            headers: HeaderMap::new(),
            invalid: None,
        }
    }

    /// Send `Authorization: Bearer <token>` with every request.
    pub fn with_bearer(self, token: impl Display) -> Self {
        let value = format!("Bearer {token}");
        let mut client = self.with_header(header::AUTHORIZATION.as_str(), &value);
        if let Some(v) = client.headers.get_mut(header::AUTHORIZATION) {
            v.set_sensitive(true);
        }
        client
    }

    /// Send the header `name: value` with every request (an API key, a tenant header), replacing
    /// any earlier value of the same header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
            }
            _ => {
                self.invalid
                    .get_or_insert_with(|| format!("invalid default header `{name}`"));
            }
        }
        self
    }

    /// Use `http` for the connections (timeouts, proxies, TLS settings, a shared pool).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to `path`, an axum-style template (`/artifacts/{id}`) whose placeholders
    /// [`Request::path`] fills in order.
    pub fn request(&self, method: Method, path: &str) -> Request<'_> {
        Request {
            client: self,
            method,
            path: path.to_string(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: None,
            error: self.invalid.clone(),
        }
    }

    pub fn get(&self, path: &str) -> Request<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Request<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Request<'_> {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> Request<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Request<'_> {
        self.request(Method::DELETE, path)
    }
}

/// One request being built. Mistakes (a header value that cannot be sent, say) are kept and
/// reported by [`Request::send`], so generated code can chain every step.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    cookies: Vec<String>,
    body: Option<(Option<String>, Vec<u8>)>,
    error: Option<String>,
}

impl Request<'_> {
    fn fail(mut self, message: impl Into<String>) -> Self {
        self.error.get_or_insert_with(|| message.into());
        self
    }

    /// Fill the next `{placeholder}` of the path with `value`, percent-encoded (OpenAPI's
    /// `simple` style: arrays comma-separated).
    pub fn path<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let text = match to_json(value).map(|v| simple(&v)) {
            Ok(text) => text,
            Err(e) => return self.fail(e),
        };
        let Some((start, end)) = next_placeholder(&self.path) else {
            let message = format!("`{}` has no placeholder left to fill", self.path);
            return self.fail(message);
        };
        let mut request = self;
        request
            .path
            .replace_range(start..end, &encode_segment(&text));
        request
    }

    /// A query parameter: scalars as `name=value`, arrays as repeated `name=item` (`form` style,
    /// exploded), objects as `name[key]=value` (`deepObject`). `None` (null) sends nothing.
    pub fn query<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        match to_json(value) {
            Ok(v) => {
                form_pairs(name, &v, &mut self.query);
                self
            }
            Err(e) => self.fail(e),
        }
    }

    /// The paging, sorting and filtering of a list operation.
    pub fn list(mut self, params: &ListParams) -> Self {
        match params.to_pairs() {
            Ok(pairs) => {
                self.query.extend(pairs);
                self
            }
            Err(e) => self.fail(e),
        }
    }

    /// A header parameter (`simple` style: arrays comma-separated). `None` sends nothing.
    pub fn header<T: Serialize + ?Sized>(self, name: &str, value: &T) -> Self {
        let v = match to_json(value) {
            Ok(Value::Null) => return self,
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&simple(&v)),
        ) {
            (Ok(n), Ok(val)) => {
                let mut request = self;
                request.headers.insert(n, val);
                request
            }
            _ => self.fail(format!("header `{name}` cannot carry its value")),
        }
    }

    /// A cookie parameter, sent in the `Cookie` header. `None` sends nothing.
    pub fn cookie<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        match to_json(value) {
            Ok(Value::Null) => self,
            Ok(v) => {
                self.cookies.push(format!("{name}={}", simple(&v)));
                self
            }
            Err(e) => self.fail(e),
        }
    }

    /// `If-Match: <etag>`, which a write of a versioned entity checks; `None` sends nothing.
    pub fn if_match(mut self, etag: Option<&str>) -> Self {
        let Some(etag) = etag else { return self };
        match HeaderValue::from_str(etag) {
            Ok(v) => {
                self.headers.insert(header::IF_MATCH, v);
                self
            }
            Err(_) => self.fail(format!("If-Match `{etag}` is not a valid header value")),
        }
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some((Some("application/json".into()), bytes));
                self
            }
            Err(e) => self.fail(format!("body: {e}")),
        }
    }

    /// An `application/x-www-form-urlencoded` body, encoded like a query string.
    pub fn form<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let value = match to_json(body) {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let mut pairs = Vec::new();
        match &value {
            Value::Object(map) => {
                for (k, v) in map {
                    form_pairs(k, v, &mut pairs);
                }
            }
            _ => return self.fail("a form body must be an object"),
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some((
            Some("application/x-www-form-urlencoded".into()),
            encoded.into_bytes(),
        ));
        self
    }

    /// A text body of media type `content_type` (the operation's first, such as `text/plain`).
    pub fn text(mut self, body: &str, content_type: &str) -> Self {
        self.body = Some((Some(content_type.into()), body.as_bytes().to_vec()));
        self
    }

    /// A body of bytes, sent with its own media type, else `default_type` when that names one
    /// type rather than a range (`image/*`).
    pub fn raw(mut self, body: &RawBody, default_type: &str) -> Self {
        let content_type = if !body.content_type.is_empty() {
            Some(body.content_type.clone())
        } else if !default_type.contains('*') {
            Some(default_type.to_string())
        } else {
            None
        };
        self.body = Some((content_type, body.data.clone()));
        self
    }

    /// The URL this request goes to.
    pub fn url(&self) -> String {
        let mut url = format!("{}{}", self.client.base, self.path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&self.query)
                    .finish(),
            );
        }
        url
    }

    /// Send the request. Any status but 2xx is an error: [`Error::Problem`] when the body is
    /// problem+json, else [`Error::Unexpected`].
    pub async fn send(self) -> Result<Response, Error> {
        let response = self.send_any().await?;
        if (200..300).contains(&response.status) {
            Ok(response)
        } else {
            Err(response.into_error())
        }
    }

    /// [`send`](Self::send) that answers with any status: for operations whose spec declares
    /// typed error bodies, which the caller reads by status.
    pub async fn send_any(self) -> Result<Response, Error> {
        if let Some(e) = self.error {
            return Err(Error::Encode(e));
        }
        if next_placeholder(&self.path).is_some() {
            return Err(Error::Encode(format!(
                "`{}` has a path parameter left to fill",
                self.path
            )));
        }
        let url = self.url();
        let mut request = self
            .client
            .http
            .request(self.method, url)
            .headers(self.client.headers.clone())
            .headers(self.headers);
        if !self.cookies.is_empty() {
            request = request.header(header::COOKIE, self.cookies.join("; "));
        }
        if let Some((content_type, bytes)) = self.body {
            if let Some(ct) = content_type {
                request = request.header(header::CONTENT_TYPE, ct);
            }
            request = request.body(bytes);
        }
        let answer = request.send().await?;
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let body = answer.bytes().await?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// A successful answer, read into what the operation declares.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn etag(&self) -> Option<String> {
        self.header(header::ETAG.as_str()).map(str::to_string)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(Error::Decode)
    }

    /// The `data` of a `{"data": …}` envelope, as CRUD operations answer.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        #[derive(Deserialize)]
        #[serde(bound = "T: DeserializeOwned")]
        struct Data<T> {
            data: T,
        }
        self.json::<Data<T>>().map(|d| d.data)
    }

    /// The `data` of the envelope with the answer's ETag.
    pub fn versioned<T: DeserializeOwned>(&self) -> Result<Versioned<T>, Error> {
        Ok(Versioned {
            value: self.data()?,
            etag: self.etag(),
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(self) -> String {
        String::from_utf8(self.body)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The body as bytes with its media type.
    pub fn raw(self) -> RawBody {
        RawBody {
            content_type: self
                .header(header::CONTENT_TYPE.as_str())
                .unwrap_or_default()
                .to_string(),
            data: self.body,
        }
    }

    /// Whether the body is a problem (`application/problem+json`): an error the service
    /// answered itself (bad input, a missing row), not a typed error body of the operation.
    pub fn is_problem(&self) -> bool {
        self.header(header::CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with("application/problem+json"))
    }

    /// The error an unsuccessful answer stands for (its problem, when it has one).
    pub fn into_error(self) -> Error {
        let status = self.status;
        let json = self
            .header(header::CONTENT_TYPE.as_str())
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
        if json && let Ok(problem) = serde_json::from_slice::<Problem>(&self.body) {
            return Error::Problem {
                status,
                problem: Box::new(problem),
            };
        }
        Error::Unexpected {
            status,
            body: self.text(),
        }
    }
}

/// A list request: paging by offset or cursor, sort keys and a filter tree, written as the
/// generated list handlers parse them (`limit`, `offset`, `cursor`, `sort=-createdAt,name`,
/// `filter[type]=eq&filter[field]=…&filter[value]=…`).
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct ListParams {
    limit: Option<u32>,
    offset: Option<u64>,
    cursor: Option<String>,
    sort: Vec<SortSpec>,
    filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
enum SortSpec {
    Field(String, SortOrder),
    /// A key as the server reads it: `-createdAt`, `name:asc`.
    Key(String),
}

impl ListParams {
    /// The first page at the service's default size and order.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Start after the page whose `meta.nextCursor` this is (keep the same sort, no offset).
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Order by `field` (its API name); earlier keys take precedence.
    pub fn sort(mut self, field: impl Display, order: SortOrder) -> Self {
        self.sort.push(SortSpec::Field(field.to_string(), order));
        self
    }

    /// Order by a key spelled the way the `sort` parameter spells it (`-createdAt` for
    /// descending): a value of the spec's generated sort enum, say.
    pub fn sort_key(mut self, key: impl Display) -> Self {
        self.sort.push(SortSpec::Key(key.to_string()));
        self
    }

    pub fn asc(self, field: impl Display) -> Self {
        self.sort(field, SortOrder::Asc)
    }

    pub fn desc(self, field: impl Display) -> Self {
        self.sort(field, SortOrder::Desc)
    }

    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The same request for the page after `page`, by its cursor; `None` on the last page.
    pub fn next<T>(&self, page: &Page<T>) -> Option<Self> {
        let cursor = page.meta.next_cursor.clone()?;
        Some(Self {
            offset: None,
            cursor: Some(cursor),
            ..self.clone()
        })
    }

    /// The query pairs of this request.
    pub fn to_pairs(&self) -> Result<Vec<(String, String)>, String> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit".into(), limit.to_string()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset".into(), offset.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor".into(), cursor.clone()));
        }
        // `sort=-a,b`, unless a name holds a comma: then `sort[0][field]=…&sort[0][order]=…`.
        let compact = self.sort.iter().all(|k| match k {
            SortSpec::Field(f, _) | SortSpec::Key(f) => !f.contains(','),
        });
        if compact && !self.sort.is_empty() {
            let keys: Vec<String> = self
                .sort
                .iter()
                .map(|k| match k {
                    SortSpec::Field(f, SortOrder::Asc) | SortSpec::Key(f) => f.clone(),
                    SortSpec::Field(f, SortOrder::Desc) => format!("-{f}"),
                })
                .collect();
            pairs.push(("sort".into(), keys.join(",")));
        } else {
            for (i, k) in self.sort.iter().enumerate() {
                match k {
                    SortSpec::Field(f, o) => {
                        let order = match o {
                            SortOrder::Asc => "asc",
                            SortOrder::Desc => "desc",
                        };
                        pairs.push((format!("sort[{i}][field]"), f.clone()));
                        pairs.push((format!("sort[{i}][order]"), order.into()));
                    }
                    SortSpec::Key(key) => pairs.push((format!("sort[{i}][field]"), key.clone())),
                }
            }
        }
        if let Some(filter) = &self.filter {
            let tree = filter.to_json()?;
            if filter.has_null() {
                // A query string has no null for text fields: send the tree as JSON.
                pairs.push(("filter".into(), tree.to_string()));
            } else {
                form_pairs("filter", &tree, &mut pairs);
            }
        }
        Ok(pairs)
    }
}

/// A filter tree: leaves compare a field (its API name) with a value; `and` and `or` combine.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Leaf {
        field: String,
        op: Op,
        /// The operand as JSON: text, number, boolean or null (an error when it did not
        /// serialise to one).
        value: Result<Value, String>,
    },
}

impl Filter {
    /// `field <op> value`, where `value` is anything that serialises to a scalar (text, a
    /// number, a UUID, a date-time, a generated enum) or to null (`None`).
    pub fn leaf(field: impl Display, op: Op, value: impl Serialize) -> Self {
        Filter::Leaf {
            field: field.to_string(),
            op,
            value: serde_json::to_value(value).map_err(|e| format!("filter value: {e}")),
        }
    }

    pub fn eq(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Eq, value)
    }

    pub fn ne(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Ne, value)
    }

    pub fn gt(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Gt, value)
    }

    pub fn gte(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Gte, value)
    }

    pub fn lt(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Lt, value)
    }

    pub fn lte(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Lte, value)
    }

    pub fn contains(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::Contains, value)
    }

    pub fn starts_with(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::StartsWith, value)
    }

    pub fn ends_with(field: impl Display, value: impl Serialize) -> Self {
        Self::leaf(field, Op::EndsWith, value)
    }

    pub fn and(children: impl IntoIterator<Item = Filter>) -> Self {
        Filter::And(children.into_iter().collect())
    }

    pub fn or(children: impl IntoIterator<Item = Filter>) -> Self {
        Filter::Or(children.into_iter().collect())
    }

    fn has_null(&self) -> bool {
        match self {
            Filter::And(c) | Filter::Or(c) => c.iter().any(Filter::has_null),
            Filter::Leaf { value, .. } => matches!(value, Ok(Value::Null)),
        }
    }

    /// The tree as the server reads it: `{type, field, value}` or `{type, children}`.
    pub fn to_json(&self) -> Result<Value, String> {
        Ok(match self {
            Filter::And(c) | Filter::Or(c) => {
                let kind = if matches!(self, Filter::And(_)) {
                    "and"
                } else {
                    "or"
                };
                let children = c.iter().map(Filter::to_json).collect::<Result<_, _>>()?;
                serde_json::json!({ "type": kind, "children": Value::Array(children) })
            }
            Filter::Leaf { field, op, value } => {
                serde_json::json!({ "type": op.name(), "field": field, "value": value.clone()? })
            }
        })
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// A scalar as text: strings bare, numbers and booleans as JSON writes them, null empty.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// OpenAPI's `simple` style: arrays `a,b`, objects `k,v,k2,v2`.
fn simple(v: &Value) -> String {
    match v {
        Value::Array(items) => items.iter().map(simple).collect::<Vec<_>>().join(","),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| [k.clone(), simple(v)])
            .collect::<Vec<_>>()
            .join(","),
        other => scalar(other).unwrap_or_default(),
    }
}

/// Query (and form) pairs for `name`: repeated keys for arrays of scalars, brackets for objects
/// and nested arrays, nothing for null.
fn form_pairs(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Array(items) if items.iter().all(|i| scalar(i).is_some()) => {
            out.extend(
                items
                    .iter()
                    .filter(|i| !i.is_null())
                    .filter_map(|i| scalar(i).map(|s| (name.to_string(), s))),
            );
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                form_pairs(&format!("{name}[{i}]"), item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                form_pairs(&format!("{name}[{k}]"), item, out);
            }
        }
        other => out.extend(scalar(other).map(|s| (name.to_string(), s))),
    }
}

/// The byte range of the first `{…}` in `path`.
fn next_placeholder(path: &str) -> Option<(usize, usize)> {
    let start = path.find('{')?;
    let end = start + path[start..].find('}')? + 1;
    Some((start, end))
}

/// Percent-encode all but RFC 3986's unreserved characters, so a value stays one segment.
fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::new("http://example.test/api/")
    }

    #[test]
    fn paths_fill_placeholders_in_order_and_encode_them() {
        let c = client();
        let r = c
            .request(Method::GET, "/a/{x}/b/{y}")
            .path("a b/c")
            .path(&[1, 2]);
        assert_eq!(r.url(), "http://example.test/api/a/a%20b%2Fc/b/1%2C2");
    }

    #[test]
    fn query_parameters_follow_form_and_deep_object() {
        #[derive(Serialize)]
        struct Window {
            limit: u32,
            since: Option<String>,
        }
        let c = client();
        let r = c
            .request(Method::GET, "/x")
            .query("tags", &["a", "b c"])
            .query("missing", &None::<u32>)
            .query("flag", &true)
            .query(
                "filter",
                &Window {
                    limit: 2,
                    since: None,
                },
            );
        assert_eq!(
            r.url(),
            "http://example.test/api/x?tags=a&tags=b+c&flag=true&filter%5Blimit%5D=2"
        );
    }

    #[test]
    fn list_params_write_what_list_query_parses() {
        let params = ListParams::new()
            .limit(5)
            .desc("credits")
            .asc("name")
            .filter(Filter::and([
                Filter::eq("name", "x"),
                Filter::gt("credits", 3),
            ]));
        // Compared as a set: the order of a filter's keys follows serde_json's map, which depends
        // on the features other crates in the build turn on.
        let mut pairs = params.to_pairs().unwrap();
        pairs.sort();
        let raw = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        assert_eq!(
            raw,
            "filter%5Bchildren%5D%5B0%5D%5Bfield%5D=name&filter%5Bchildren%5D%5B0%5D%5Btype%5D=eq&filter%5Bchildren%5D%5B0%5D%5Bvalue%5D=x&filter%5Bchildren%5D%5B1%5D%5Bfield%5D=credits&filter%5Bchildren%5D%5B1%5D%5Btype%5D=gt&filter%5Bchildren%5D%5B1%5D%5Bvalue%5D=3&filter%5Btype%5D=and&limit=5&sort=-credits%2Cname"
        );
        let odd = ListParams::new().asc("a,b").sort_key("-c");
        assert_eq!(
            odd.to_pairs().unwrap(),
            [
                ("sort[0][field]".to_string(), "a,b".to_string()),
                ("sort[0][order]".to_string(), "asc".to_string()),
                ("sort[1][field]".to_string(), "-c".to_string()),
            ]
        );
        let keys = ListParams::new().sort_key("-c").asc("d");
        assert_eq!(
            keys.to_pairs().unwrap(),
            [("sort".to_string(), "-c,d".to_string())]
        );
        let null = ListParams::new().filter(Filter::eq("name", None::<String>));
        let pairs = null.to_pairs().unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "filter");
        let sent: serde_json::Value = serde_json::from_str(&pairs[0].1).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"field": "name", "type": "eq", "value": null})
        );
    }

    #[test]
    fn the_next_page_keeps_the_sort_and_drops_the_offset() {
        let params = ListParams::new().offset(4).desc("name");
        let mut page: Page<u8> = Page::new(vec![1], 9);
        assert_eq!(params.next(&page), None);
        page.meta.next_cursor = Some("c".into());
        assert_eq!(
            params.next(&page),
            Some(ListParams::new().desc("name").cursor("c"))
        );
    }

    #[test]
    fn problems_and_pages_deserialise() {
        let p: Problem = serde_json::from_str(
            r#"{"type":"about:blank","title":"Validation failed","status":422,"detail":"d","errors":[{"field":"name","message":"is required"}]}"#,
        )
        .unwrap();
        assert_eq!(p.error_for("name"), Some("is required"));
        let page: Page<u8> =
            serde_json::from_str(r#"{"data":[1,2],"meta":{"total":2,"nextCursor":"x"}}"#).unwrap();
        assert_eq!(page.meta.next_cursor.as_deref(), Some("x"));
    }

    #[test]
    fn bad_headers_fail_at_send() {
        let c = client().with_header("bad header", "x");
        let r = c.request(Method::GET, "/x");
        assert!(r.error.is_some());
        let v = Versioned {
            value: 1,
            etag: Some("\"7\"".into()),
        };
        assert_eq!(v.version(), Some(7));
    }
}
