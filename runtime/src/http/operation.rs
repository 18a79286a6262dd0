//! Operations as declarations. A generated handler declares its operation once, as an
//! [`Operation`] static (statuses, security, parameters, body); [`Call`] reads a request by
//! that declaration and the answer methods write the response. Parsing, validation, security
//! and the order they run in are written here once, for every operation of every spec.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::media::{RawBody, cookie_param, form_body, header_param, raw_body, text_body};
use super::{
    Data, from_value, json_body, json_object_body, list_query, path_id, path_param, query_map,
    query_param, with_etag,
};
use crate::auth::{Permissions, Requirement, authorized};
use crate::context::Context;
use crate::error::{ApiError, FieldError};
use crate::repo::{ListQuery, Page, Table};
use crate::validate::Schema;

/// What a handler returns.
pub type Answer = Result<Response, ApiError>;

/// One operation of the spec, as its handler reads requests and writes answers.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The success status the spec declares.
    pub status: u16,
    /// 400 or 422: the status of a request that fails validation.
    pub invalid: u16,
    /// The status of a malformed path parameter: `invalid`, or 404 when the spec declares
    /// neither 400 nor 422 (a malformed identifier names no resource).
    pub invalid_path: u16,
    /// Who may call: any one alternative of these (`None`: anyone)…
    pub requirements: Option<&'static [Requirement]>,
    /// …holding these.
    pub permissions: Permissions,
    /// The path parameter that names the item of a get, update or delete: name and position.
    pub id: (&'static str, usize),
    /// The parents of a nested collection, outermost first: each path parameter's name and
    /// position (`/stores/{storeID}/orders`: `[("storeID", 0)]`).
    pub parents: &'static [(&'static str, usize)],
    /// The parameters of a custom operation, in the order they are read.
    pub params: &'static [Param],
    pub body: Option<Body>,
    /// Whether the spec's page metadata has `nextCursor`.
    pub next_cursor: bool,
    /// The only query keys a list takes, when the spec closes its parameters.
    pub query_keys: Option<&'static [&'static str]>,
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// The path segment at this position.
    Path(usize),
    Query,
    Header,
    Cookie,
}

/// A parameter of a custom operation, read into the input field `field`.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub field: &'static str,
    pub at: In,
    pub schema: &'static Schema,
    pub required: bool,
}

impl Param {
    const fn new(
        at: In,
        name: &'static str,
        field: &'static str,
        schema: &'static Schema,
        required: bool,
    ) -> Self {
        Self {
            name,
            field,
            at,
            schema,
            required,
        }
    }

    /// The path parameter at `position` among the path's parameters (always required).
    pub const fn path(
        name: &'static str,
        field: &'static str,
        position: usize,
        schema: &'static Schema,
    ) -> Self {
        Self::new(In::Path(position), name, field, schema, true)
    }

    pub const fn query(
        name: &'static str,
        field: &'static str,
        schema: &'static Schema,
        required: bool,
    ) -> Self {
        Self::new(In::Query, name, field, schema, required)
    }

    pub const fn header(
        name: &'static str,
        field: &'static str,
        schema: &'static Schema,
        required: bool,
    ) -> Self {
        Self::new(In::Header, name, field, schema, required)
    }

    pub const fn cookie(
        name: &'static str,
        field: &'static str,
        schema: &'static Schema,
        required: bool,
    ) -> Self {
        Self::new(In::Cookie, name, field, schema, required)
    }
}

/// How a request body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Form,
    Text,
    Raw,
}

/// The request body an operation takes.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub format: Format,
    pub schema: &'static Schema,
    /// The media types a text or raw body may declare.
    pub media: &'static [&'static str],
    pub required: bool,
}

impl Operation {
    /// An open operation answering `status`, with 422 for invalid input. Statuses are numbers
    /// here because `StatusCode` cannot be made in a constant from one.
    pub const fn new(status: u16) -> Self {
        Self {
            status,
            invalid: 422,
            invalid_path: 422,
            requirements: None,
            permissions: Permissions::NONE,
            id: ("id", 0),
            parents: &[],
            params: &[],
            body: None,
            next_cursor: true,
            query_keys: None,
        }
    }

    /// Invalid input answers `status` (the spec declares 400, not 422).
    pub const fn invalid(self, status: u16) -> Self {
        Self {
            invalid: status,
            invalid_path: status,
            ..self
        }
    }

    /// A malformed path parameter is 404: the spec declares neither 400 nor 422.
    pub const fn path_not_found(self) -> Self {
        Self {
            invalid_path: 404,
            ..self
        }
    }

    /// Callers must meet one of `requirements`.
    pub const fn secured(self, requirements: &'static [Requirement]) -> Self {
        Self {
            requirements: Some(requirements),
            ..self
        }
    }

    /// Callers must hold one of `any_role` (when it is not empty) and all of `all_of`.
    pub const fn permissions(
        self,
        any_role: &'static [&'static str],
        all_of: &'static [&'static str],
    ) -> Self {
        Self {
            permissions: Permissions { any_role, all_of },
            ..self
        }
    }

    /// The item's id is the path parameter `name`, at `position` among the path's parameters.
    pub const fn id(self, name: &'static str, position: usize) -> Self {
        Self {
            id: (name, position),
            ..self
        }
    }

    /// A nested collection's parents, outermost first, as path parameters.
    pub const fn within(self, parents: &'static [(&'static str, usize)]) -> Self {
        Self { parents, ..self }
    }

    pub const fn params(self, params: &'static [Param]) -> Self {
        Self { params, ..self }
    }

    /// A JSON body checked against `schema`.
    pub const fn json(self, schema: &'static Schema, required: bool) -> Self {
        self.body(Format::Json, schema, &[], required)
    }

    pub const fn body(
        self,
        format: Format,
        schema: &'static Schema,
        media: &'static [&'static str],
        required: bool,
    ) -> Self {
        Self {
            body: Some(Body {
                format,
                schema,
                media,
                required,
            }),
            ..self
        }
    }

    /// A list refuses query keys other than `keys`: its parameters are closed.
    pub const fn only_query(self, keys: &'static [&'static str]) -> Self {
        Self {
            query_keys: Some(keys),
            ..self
        }
    }

    /// Pages leave out `nextCursor`: the spec's page metadata does not have it.
    pub const fn without_next_cursor(self) -> Self {
        Self {
            next_cursor: false,
            ..self
        }
    }

    /// The same operation answering `status`: one of the success responses it declares.
    pub const fn at(self, status: u16) -> Self {
        Self { status, ..self }
    }

    /// The success status.
    pub fn status(&self) -> StatusCode {
        code(self.status)
    }

    /// The status of a request that fails validation.
    pub fn invalid_status(&self) -> StatusCode {
        code(self.invalid)
    }

    /// The status of a malformed path parameter.
    pub fn path_status(&self) -> StatusCode {
        code(self.invalid_path)
    }

    /// A page of a list.
    pub fn page<T: Serialize>(&self, mut page: Page<T>) -> Answer {
        if !self.next_cursor {
            page.meta.next_cursor = None;
        }
        Ok((self.status(), axum::Json(page)).into_response())
    }

    /// One item, as `{"data": item}`.
    pub fn item<T: Serialize>(&self, item: &T) -> Answer {
        Ok((self.status(), axum::Json(Data { data: item })).into_response())
    }

    /// An entity, as `{"data": …}`; a versioned one's version is the ETag, which `If-Match`
    /// sends back.
    pub fn entity<T: Serialize + crate::Record>(&self, item: &T) -> Answer {
        match item.version() {
            Some(version) => self.versioned(item, version),
            None => self.item(item),
        }
    }

    /// One item of a versioned entity: its version is the ETag, which `If-Match` sends back.
    pub fn versioned<T: Serialize>(&self, item: &T, version: i64) -> Answer {
        Ok(with_etag(self.item(item)?, version))
    }

    /// No content, only the status.
    pub fn empty(&self) -> Answer {
        Ok(declared(self.status().into_response()))
    }

    /// A custom operation's JSON output.
    pub fn output<T: Serialize>(&self, output: T) -> Answer {
        Ok(declared(
            (self.status(), axum::Json(output)).into_response(),
        ))
    }

    /// A custom operation's `text/plain` output.
    pub fn text(&self, output: String) -> Answer {
        Ok(declared(super::text_response(self.status(), output)))
    }

    /// A custom operation's output of any other media type.
    pub fn raw(&self, output: RawBody) -> Answer {
        Ok(declared((self.status(), output).into_response()))
    }
}

/// What a custom operation with several declared success responses answers: the generated
/// enum has one variant per response and says which status each is written with.
pub trait Respond {
    fn respond(self, op: &Operation) -> Answer;
}

/// A request, read lazily by an [`Operation`]: the caller's context and path are taken when the
/// handler starts, the rest (query, headers, body) only when the operation reads it.
pub struct Call<S> {
    service: Arc<S>,
    cx: Context,
    parts: Parts,
    path: Result<Vec<(String, String)>, String>,
    body: axum::body::Body,
    /// Security has passed and `cx` is the authorized caller.
    cleared: bool,
}

impl<S: Send + Sync + 'static> FromRequest<Arc<S>> for Call<S> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &Arc<S>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let cx = Context::from_request_parts(&mut parts, state).await?;
        let path = Path::<Vec<(String, String)>>::from_request_parts(&mut parts, state)
            .await
            .map(|p| p.0)
            .map_err(|e| e.body_text());
        Ok(Self {
            service: state.clone(),
            cx,
            parts,
            path,
            body,
            cleared: false,
        })
    }
}

impl<S> Call<S> {
    /// The caller, once security allows the call. Runs before anything is parsed, so a caller
    /// who may not call learns nothing about the input.
    fn authorized(&mut self, op: &Operation) -> Result<(Arc<S>, Context), ApiError> {
        self.clear(op)?;
        Ok((self.service.clone(), std::mem::take(&mut self.cx)))
    }

    /// Security, once per call.
    fn clear(&mut self, op: &Operation) -> Result<(), ApiError> {
        if !self.cleared {
            let cx = std::mem::take(&mut self.cx);
            self.cx = match op.requirements {
                None if op.permissions.is_none() => cx,
                requirements => authorized(cx, requirements.unwrap_or_default(), &op.permissions)?,
            };
            self.cleared = true;
        }
        Ok(())
    }

    /// The ids of a nested collection's parents, outermost first, read after security so a
    /// caller who may not call learns nothing from them.
    pub fn parents<const N: usize>(&mut self, op: &Operation) -> Result<[uuid::Uuid; N], ApiError> {
        self.clear(op)?;
        let mut ids = [uuid::Uuid::nil(); N];
        for (id, (name, position)) in ids.iter_mut().zip(op.parents) {
            *id = path_id(self.path_at(op, *position)?, name, op.path_status())?;
        }
        Ok(ids)
    }

    fn path(&self, op: &Operation) -> Result<&[(String, String)], ApiError> {
        self.path.as_deref().map_err(|e| {
            ApiError::validation(op.path_status(), vec![FieldError::new("path", e.clone())])
                .as_missing_resource()
        })
    }

    fn path_at(&self, op: &Operation, position: usize) -> Result<&str, ApiError> {
        Ok(super::path_at(self.path(op)?, position))
    }

    /// The id of the item a get, update or delete names.
    fn item_id<T: std::str::FromStr>(&self, op: &Operation) -> Result<T, ApiError> {
        let (name, position) = op.id;
        path_id(self.path_at(op, position)?, name, op.path_status())
    }

    /// The item id of a get or delete.
    pub fn id<T: std::str::FromStr>(
        mut self,
        op: &Operation,
    ) -> Result<(Arc<S>, Context, T), ApiError> {
        let (service, cx) = self.authorized(op)?;
        let id = self.item_id(op)?;
        Ok((service, cx, id))
    }

    /// The query of a list over `table`.
    pub fn list(
        mut self,
        op: &Operation,
        table: &Table,
    ) -> Result<(Arc<S>, Context, ListQuery), ApiError> {
        let (service, cx) = self.authorized(op)?;
        let raw = self.parts.uri.query();
        if let Some(keys) = op.query_keys {
            crate::query::only_keys(raw.unwrap_or_default(), keys)
                .map_err(|errors| ApiError::validation(op.invalid_status(), errors))?;
        }
        let query = list_query(raw, table, op.invalid_status())?;
        Ok((service, cx, query))
    }

    /// The body of a create.
    pub async fn create<B: DeserializeOwned>(
        mut self,
        op: &Operation,
    ) -> Result<(Arc<S>, Context, B), ApiError> {
        let (service, cx) = self.authorized(op)?;
        let body = self.object_body(op).await?;
        Ok((service, cx, body))
    }

    /// The item id and the body of an update.
    pub async fn update<T: std::str::FromStr, B: DeserializeOwned>(
        mut self,
        op: &Operation,
    ) -> Result<(Arc<S>, Context, T, B), ApiError> {
        let (service, cx) = self.authorized(op)?;
        let id = self.item_id(op)?;
        let body = self.object_body(op).await?;
        Ok((service, cx, id, body))
    }

    /// A create's or update's JSON object body; an optional one may be empty.
    async fn object_body<B: DeserializeOwned>(self, op: &Operation) -> Result<B, ApiError> {
        let Some(body) = op.body else {
            return from_value(Value::Object(Map::new()), op.invalid_status());
        };
        let content_type = self.parts.headers.get(header::CONTENT_TYPE).cloned();
        let bytes = self.bytes().await?;
        let value = json_object_body(
            content_type.as_ref(),
            &bytes,
            body.schema,
            body.required,
            op.invalid_status(),
        )?;
        from_value(value, op.invalid_status())
    }

    /// The input of a custom operation: each parameter, then the body, read into the field the
    /// operation names and checked against its schema. A raw body comes back beside the input,
    /// which holds an empty one in its place: bytes have no JSON form.
    pub async fn input<I: DeserializeOwned>(
        mut self,
        op: &Operation,
    ) -> Result<(Arc<S>, Context, I, Option<RawBody>), ApiError> {
        let (service, cx) = self.authorized(op)?;
        let mut input = self.params(op)?;
        let mut raw = None;
        if let Some(body) = op.body {
            let headers = std::mem::take(&mut self.parts.headers);
            let bytes = self.bytes().await?;
            let (schema, media, required, invalid) =
                (body.schema, body.media, body.required, op.invalid_status());
            let value = match body.format {
                Format::Json => json_body(
                    headers.get(header::CONTENT_TYPE),
                    &bytes,
                    schema,
                    required,
                    invalid,
                )?,
                Format::Form => form_body(&headers, &bytes, schema, required, invalid)?,
                Format::Text => {
                    text_body(&headers, &bytes, media, required, invalid)?.map(Value::String)
                }
                Format::Raw => {
                    raw = raw_body(&headers, &bytes, media, required, invalid)?;
                    required.then(|| serde_json::to_value(RawBody::default()).unwrap_or_default())
                }
            };
            input.insert("body".into(), value.unwrap_or(Value::Null));
        }
        let input = serde_path_to_error::deserialize(Value::Object(input))
            .map_err(|e| ApiError::validation(op.invalid_status(), vec![unreadable(op, &e)]))?;
        Ok((service, cx, input, raw))
    }

    /// The parameters of a custom operation, by the input field each is read into.
    fn params(&self, op: &Operation) -> Result<Map<String, Value>, ApiError> {
        let mut input = Map::new();
        let mut query = None;
        for p in op.params {
            let (name, schema, required, invalid) =
                (p.name, p.schema, p.required, op.invalid_status());
            let value: Option<Value> = match p.at {
                In::Path(at) => Some(path_param(
                    self.path_at(op, at)?,
                    name,
                    schema,
                    op.path_status(),
                )?),
                In::Query => {
                    let params = match &query {
                        Some(params) => params,
                        None => query.insert(query_map(self.parts.uri.query(), invalid)?),
                    };
                    query_param(params, name, schema, required, invalid)?
                }
                In::Header => header_param(&self.parts.headers, name, schema, required, invalid)?,
                In::Cookie => cookie_param(&self.parts.headers, name, schema, required, invalid)?,
            };
            if let Some(value) = value {
                input.insert(p.field.into(), value);
            }
        }
        Ok(input)
    }

    /// The whole body, within the router's body limit.
    async fn bytes(self) -> Result<Bytes, ApiError> {
        let request = Request::from_parts(self.parts, self.body);
        Bytes::from_request(request, &())
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))
    }
}

/// What failed to deserialize into a custom operation's input: the parameter by its name, or
/// the body with serde's reason. Schemas catch nearly everything before this.
fn unreadable(op: &Operation, e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let field = e
        .path()
        .iter()
        .next()
        .map(|s| s.to_string())
        .unwrap_or_default();
    match op.params.iter().find(|p| p.field == field) {
        Some(p) => FieldError::new(p.name, "is not valid"),
        None => FieldError::new("body", e.inner().to_string()),
    }
}

/// An answer the spec declares, error statuses included (a reply enum's typed error body): it
/// is marked so that the layer which turns stray errors into problems leaves it as it is.
fn declared(mut response: Response) -> Response {
    if response.status().is_client_error() || response.status().is_server_error() {
        response.extensions_mut().insert(crate::error::Problem);
    }
    response
}

/// A status the generator wrote; it only writes valid ones.
fn code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
