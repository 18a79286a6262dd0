//! The domain model: what the templates render. Built from the loaded spec in [`lower`], it
//! holds only resolved, checked, Rust-ready names, so templates never make a naming decision.

mod body;
mod cache;
mod classify;
mod cycles;
mod document;
mod entity;
pub mod features;
mod list_params;
pub mod literal;
mod lower;
mod media;
pub mod names;

pub mod problem;
mod reach;
mod relations;
pub mod routes;
pub mod rules;
pub mod schema;
pub mod security;
pub mod type_ref;
pub mod types;

use serde::Serialize;

pub use crate::annotate::Returns;

pub use lower::lower;
pub use type_ref::TypeRef;
pub use types::{Storage, StructField, TypeDef};

#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub title: String,
    /// Crate-style name for the service, from `x-project-name` or the title.
    pub service: String,
    pub domains: Vec<Domain>,
    /// Component types owned by no domain.
    pub common_types: Vec<TypeDef>,
    /// Entities of all domains in foreign-key order, for the migration.
    pub tables: Vec<Entity>,
    pub routes: Vec<routes::Route>,
    pub security_schemes: Vec<security::Scheme>,
    /// How error bodies must look to fit the spec's problem schema.
    pub problem: problem::ProblemShape,
    /// The optional parts of archgen-runtime the generated code uses.
    pub runtime: features::RuntimeFeatures,
    /// The bundled spec as JSON, for `/openapi.json`.
    #[serde(skip)]
    pub document: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    /// Module name, snake_case (escaped when it is a keyword: `match_`).
    pub name: String,
    /// The same without escaping, for building longer names (`match_repositories`).
    pub base: String,
    pub pascal: String,
    pub entities: Vec<Entity>,
    pub operations: Vec<Operation>,
    pub types: Vec<TypeDef>,
    /// Validation statics this domain's handlers need.
    pub rules: Vec<NamedRule>,
    /// Security requirement statics, one per distinct set of alternatives.
    pub requirements: Vec<security::Requirements>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    pub name: String,
    pub snake: String,
    /// Accessor in the domain's repositories struct, e.g. `artifacts`.
    pub plural: String,
    pub table: String,
    pub fields: Vec<Field>,
    pub indices: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    pub methods: Vec<Method>,
    /// Sets of API field names that must be unique together (for the mock store).
    pub unique_sets: Vec<Vec<String>>,
    pub has_created_at: bool,
    pub has_updated_at: bool,
    /// Rows are marked deleted (`deleted_at`) rather than removed; every read skips them.
    pub soft_delete: bool,
    /// Ident of the version field when `optimisticLocking` guards writes.
    pub version: Option<String>,
    /// The organization field when rows belong to tenants.
    pub tenant: Option<Field>,
    /// Cache-aside reads (`x-codegen.cache`).
    pub cache: Option<CacheModel>,
    /// Events written to the outbox with each change (`x-codegen.events`).
    pub events: Vec<EventModel>,
    /// Page size when a list request gives none, and the largest allowed: from the `limit` of the
    /// list operation's `page` parameter, else 20 and 100.
    pub default_limit: u32,
    pub max_limit: u32,
    /// API names the list operation's `sort` parameter allows (its `field` enum); empty: all.
    pub sortable: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Name in JSON, e.g. `organizationID`.
    pub name: String,
    pub ident: String,
    pub column: String,
    /// Base type, without `Option`.
    pub base: TypeRef,
    pub nullable: bool,
    /// Optional in the spec but not nullable: a response leaves it out rather than send a
    /// `null` the schema forbids (the column is NULL when it has no value).
    pub absent_when_none: bool,
    pub storage: Storage,
    pub enum_values: Vec<String>,
    /// What the server sets the field to, if it does.
    pub server_set: Option<ServerSet>,
    /// A column the schema does not declare (`timestamps`, `optimisticLocking`): in the Rust type
    /// and the table, never in JSON.
    pub hidden: bool,
    pub sensitive: bool,
    /// `readOnly`: answered, never accepted in a request body.
    pub read_only: bool,
    pub updatable: bool,
    pub creatable: bool,
    /// The spec's default, for a create request that leaves the field out.
    pub default: Option<literal::Literal>,
    /// The same default as an SQL literal, for migrations.
    pub sql_default: Option<String>,
    pub doc: Option<String>,
    pub pg_type: String,
    pub sqlite_type: String,
}

/// Values the server gives a field itself; templates see them as `id`, `created_at`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerSet {
    Id,
    CreatedAt,
    UpdatedAt,
    /// The counter of `optimisticLocking`.
    Version,
    /// The caller's organization.
    Tenant,
}

#[derive(Debug, Clone, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// A partial index's condition: unique indices of soft-deleted entities ignore deleted rows.
    pub condition: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForeignKey {
    /// Where the relation is written, for diagnostics.
    #[serde(skip)]
    pub pointer: String,
    pub column: String,
    /// The API names of the field and of the field it references, and whether the field can be
    /// cleared, for the mock store, which keeps keys the way the databases do.
    pub field: String,
    pub field_ident: String,
    pub nullable: bool,
    pub target_field: String,
    pub table: String,
    pub target_column: String,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}

/// One event of an entity.
#[derive(Debug, Clone, Serialize)]
pub struct EventModel {
    /// snake_case, e.g. `created`, `refreshed`.
    pub name: String,
    /// The enum variant, e.g. `Created`.
    pub variant: String,
    /// `<domain>.<entity>.<event>`.
    pub subject: String,
}

/// How an entity is cached.
#[derive(Debug, Clone, Serialize)]
pub struct CacheModel {
    /// Whole seconds.
    pub ttl: u64,
    /// `author:{id}`: each placeholder a field's API name.
    pub key: String,
    /// The placeholders, as (API name, Rust ident, whether the field is a UUID).
    pub key_fields: Vec<(String, String)>,
    /// Get-by-id can be keyed without reading the row: the key names only `id` and the tenant.
    pub by_id: bool,
    /// Placeholders other than id and tenant can change: a write reads the row first to forget
    /// its old key.
    pub reads_before_write: bool,
    pub on_update: bool,
    pub on_delete: bool,
    /// `<domain>:<entity>`: where query results and their stamp live.
    pub scope: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub name: String,
    /// `cache: true` on the method of a cached entity: how its results are cached.
    pub cached: Option<MethodCache>,
    /// Templates see it as `single`, `multiple`, `count`, `exists` or `void`.
    #[serde(serialize_with = "serialize_returns")]
    pub returns: Returns,
    /// (ident, Rust type, column, field ident) of each parameter.
    pub params: Vec<MethodParam>,
}

/// How a cached entity caches a method's results; templates see it as `entity` or `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodCache {
    /// A single row whose key the params spell: cached like get-by-id.
    Entity,
    /// Anything else: a query result under the entity's stamp, forgotten on every write.
    Query,
}

fn serialize_returns<S: serde::Serializer>(returns: &Returns, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match returns {
        Returns::Single => "single",
        Returns::Multiple => "multiple",
        Returns::Count => "count",
        Returns::Exists => "exists",
        Returns::Void => "void",
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodParam {
    pub ident: String,
    pub ty: TypeRef,
    pub column: String,
    pub storage: Storage,
}

#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub id: String,
    pub fn_name: String,
    pub method: String,
    /// axum route syntax (`/artifacts/{id}`).
    pub path: String,
    pub kind: OperationKind,
    pub summary: Option<String>,
    pub entity: Option<String>,
    pub entity_plural: Option<String>,
    pub status: u16,
    pub validation_status: u16,
    /// The status for a malformed path parameter.
    pub path_invalid_status: u16,
    pub path_params: Vec<Param>,
    pub query_params: Vec<Param>,
    pub header_params: Vec<Param>,
    pub cookie_params: Vec<Param>,
    pub body: Option<Body>,
    /// Type of the success response body; `None` when it has no content.
    pub output: Option<TypeRef>,
    /// How the success response is written.
    pub output_format: media::Format,
    /// The input struct of a custom operation.
    pub input: Option<TypeRef>,
    /// For create and update: how each field of the repository record is filled from the body.
    pub assign: Vec<Assign>,
    /// For create: the organization field the body leaves out, filled from the caller.
    pub caller_organization: Option<String>,
    /// For list: whether the response schema lets `meta.nextCursor` appear.
    pub next_cursor: bool,
    /// For list: the only query keys it takes, when its parameters close them.
    pub query_keys: Option<Vec<String>>,
    /// What the caller must present; `None` for an open operation.
    pub security: Option<security::Access>,
    /// A custom operation that declares several success responses answers one of them.
    pub reply: Option<Reply>,
    /// A nested collection's parents, outermost first (`/stores/{storeID}/orders`).
    pub parents: Vec<Parent>,
    /// The field of the operation's entity that holds the innermost parent's id.
    pub scope: Option<Link>,
}

/// The enum a custom handler returns when its operation declares several success responses, or
/// error responses with bodies of their own: one variant per status, so it can answer any of
/// them and nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub name: String,
    pub variants: Vec<ReplyVariant>,
    /// Some variants are error responses, which the client reads from a failed status.
    pub has_errors: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplyVariant {
    pub status: u16,
    /// `Ok`, `Accepted`, … from the status.
    pub variant: String,
    /// The body; `None` for a response without content.
    pub ty: Option<TypeRef>,
    pub format: media::Format,
    pub doc: Option<String>,
}

/// A parent of a nested collection: the path parameter with its id and the entity it names,
/// which must exist and be visible to the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Parent {
    pub param: String,
    /// Its position among the path's parameters.
    pub position: usize,
    /// The argument of the service method that receives it (`store_id`).
    pub ident: String,
    /// The parent's entity and its repository accessor; `None` when the collection names no
    /// entity of the operation's domain, and only the scope is checked.
    pub entity: Option<String>,
    pub plural: Option<String>,
    /// Its rows belong to tenants: it is read within the caller's organization.
    pub tenant: bool,
    /// For all but the outermost: the field of this parent's entity that names the one above.
    pub up: Option<Link>,
}

/// A field that holds a parent's id, and the argument it must equal.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub name: String,
    pub field: String,
    pub nullable: bool,
    /// The service method's argument with the parent's id.
    pub parent: String,
    /// The field is the entity's tenant field: the parent is the caller's organization.
    pub tenant: bool,
}

/// What an operation does, by ArchesAI's conventions (see `classify`); templates see it as
/// `list`, `get`, `create`, `update`, `delete` or `custom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    List,
    Get,
    Create,
    Update,
    Delete,
    /// Served by a handler the user writes.
    Custom,
}

#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub name: String,
    /// Index among the path template's parameters (path parameters only). Handlers read path
    /// parameters by position, so that paths differing only in parameter names share a route.
    pub position: usize,
    pub ident: String,
    pub ty: TypeRef,
    pub required: bool,
    /// Custom operations only: CRUD operations parse their parameters in the runtime.
    pub rule: Option<rules::Rule>,
}

/// A field of a `New…` record or `…Patch` built from a request body. Templates receive it as
/// `{field, expr}`, the expression written by `emit::helpers`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub field: String,
    pub from: Fill,
}

/// Where the value of an [`Assign`] comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// The body's field of the same name, as it is.
    Body,
    /// The body's optional field, else the spec's default (a Rust expression; `None`: the
    /// type's `Default`).
    BodyOr(Option<literal::Literal>),
    /// Not in the body: the spec's default, else nothing (`None` or the type's `Default`).
    Default {
        default: Option<literal::Literal>,
        nullable: bool,
    },
    /// A patch leaves the field alone.
    Absent,
}

impl Fill {
    /// The spec's default it falls back on, if any.
    pub fn default(&self) -> Option<&literal::Literal> {
        match self {
            Fill::BodyOr(d) | Fill::Default { default: d, .. } => d.as_ref(),
            Fill::Body | Fill::Absent => None,
        }
    }
}

/// A rule emitted once per module, as `static <name>: rt::validate::Schema`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedRule {
    pub name: String,
    #[serde(serialize_with = "crate::emit::rules::serialize_body")]
    pub rule: rules::Rule,
}

#[derive(Debug, Clone, Serialize)]
pub struct Body {
    pub ty: TypeRef,
    /// JSON and form bodies only.
    pub rule: Option<rules::Rule>,
    pub format: media::Format,
    /// Media types accepted by text and raw bodies.
    pub media: Vec<String>,
    pub required: bool,
}
