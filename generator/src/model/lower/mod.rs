//! From a loaded spec to the [`Model`], in passes over one [`Lowering`] context. Names come
//! first, because a name given once is never taken back: the spec's operations decide which
//! domains exist, the names generated code derives from domains and entities are reserved, and
//! only then are the spec's types named. Entities follow, then operations (which need the
//! entities to be classified), then the component types nothing else placed. Once everything
//! is read and no error was found, the domains are assembled with their types and rules, and
//! the routes planned.

mod bodies;
mod domains;
mod entities;
mod names;
mod nested;
mod operations;

use indexmap::IndexMap;
use openapiv3::{Components, OpenAPI, ReferenceOr};

use super::relations::order_tables;
use super::schema::{S, SKind, from_ref, from_schema};
use super::types::TypeSpace;
use super::{Model, security};
use crate::annotate::{Annotator, SchemaAnnotations};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::Loaded;

/// Lower a loaded spec. Warnings come back with the model; errors instead of it. The spec is
/// taken, not borrowed: the document it was read from becomes the served one, and everything
/// else of it is freed before the later stages run (a large spec's tree is most of the memory).
pub fn lower(loaded: Loaded) -> Result<(Model, Diagnostics), Diagnostics> {
    let (mut model, diags) = lower_spec(&loaded)?;
    let Loaded { doc, sources, .. } = loaded;
    drop(sources);
    model.document = super::document::served(doc, &model.domains);
    Ok((model, diags))
}

/// Everything but the served document, which needs the domains.
fn lower_spec(loaded: &Loaded) -> Result<(Model, Diagnostics), Diagnostics> {
    let spec = parse(loaded)?;
    let components = component_schemas(&spec);
    let mut cx = Lowering::new(loaded, &spec, &components);
    let spec_ops = cx.read_operations();
    let domains = cx.names(&spec_ops);
    let mut entities = cx.entities(&domains);
    let security_schemes = security::schemes(&spec, &loaded.sources, &mut cx.diags);
    let operations = cx.operations(&spec_ops, &domains, &entities);
    cx.component_types(&domains);
    // A spec with errors gets all of them at once, and no model.
    let (mut types, mut diags) = cx.checked()?;

    operations.warn_undeclared_401(&mut diags);
    operations.list_params.apply(&mut entities.all, &types);
    let tables = order_tables(&entities.all);
    let (domains, common_types) =
        domains::assemble(&domains, &entities.all, operations, &mut types);
    let title = spec.info.title.clone();
    Ok((
        Model {
            service: service_name(&spec),
            title,
            routes: super::routes::plan(&domains, &mut diags),
            document: String::new(),
            runtime: super::features::RuntimeFeatures::of(&domains, &security_schemes),
            domains,
            common_types,
            tables,
            security_schemes,
            problem: super::problem::shape(&loaded.doc),
        },
        diags.sorted(),
    ))
}

/// What the passes share: the spec, what has been read of it so far, and the diagnostics.
struct Lowering<'a> {
    loaded: &'a Loaded,
    spec: &'a OpenAPI,
    components: &'a IndexMap<String, S>,
    /// Reads `x-…` annotations, and remembers the problems it finds until [`Self::checked`].
    annotator: Annotator<'a>,
    /// Each component schema's annotations, by component name.
    annotations: IndexMap<String, SchemaAnnotations>,
    types: TypeSpace<'a>,
    diags: Diagnostics,
    /// The key of the error body most error responses declare (`problem::common_error_key`).
    problem_key: Option<String>,
}

impl<'a> Lowering<'a> {
    fn new(loaded: &'a Loaded, spec: &'a OpenAPI, components: &'a IndexMap<String, S>) -> Self {
        let mut annotator = Annotator::new(&loaded.sources);
        let annotations = components
            .iter()
            .map(|(name, s)| {
                let pointer = format!("/components/schemas/{name}");
                (name.clone(), annotator.schema(&s.extensions, &pointer))
            })
            .collect();
        Self {
            loaded,
            spec,
            components,
            annotator,
            annotations,
            types: TypeSpace::new(components),
            diags: Diagnostics::default(),
            problem_key: super::problem::common_error_key(&loaded.doc),
        }
    }

    /// Everything read, with the problems found on the way: the types and the warnings to go
    /// on with, or every error at once.
    fn checked(mut self) -> Result<(TypeSpace<'a>, Diagnostics), Diagnostics> {
        self.diags
            .extend(std::mem::take(&mut self.types.diagnostics));
        self.diags.extend(self.annotator.finish());
        if self.diags.has_errors() {
            return Err(self.diags.sorted());
        }
        Ok((self.types, self.diags))
    }
}

/// The loaded document as OpenAPI, or where it is not.
fn parse(loaded: &Loaded) -> Result<OpenAPI, Diagnostics> {
    serde_path_to_error::deserialize(&loaded.doc).map_err(|e| {
        let pointer = format!("/{}", e.path().to_string().replace('.', "/"));
        Diagnostics::from(
            Diagnostic::error(format!("not a valid OpenAPI document: {}", e.inner()))
                .at(loaded.sources.locate(&pointer))
                .pointer(pointer),
        )
    })
}

/// The component schemas, by name, in spec order.
fn component_schemas(spec: &OpenAPI) -> IndexMap<String, S> {
    let Some(components) = &spec.components else {
        return IndexMap::new();
    };
    components
        .schemas
        .iter()
        .map(|(name, schema)| (name.clone(), from_ref_schema(schema)))
        .collect()
}

fn from_ref_schema(r: &ReferenceOr<openapiv3::Schema>) -> S {
    match r {
        ReferenceOr::Item(s) => from_schema(s),
        ReferenceOr::Reference { .. } => S {
            kind: SKind::AllOf(vec![from_ref(r)]),
            ..S::default()
        },
    }
}

/// What `r` is or names in one section of the spec's components (`#/components/<section>/…`);
/// `None` when the name is not there, or is only another reference.
fn resolve<'s, T>(
    r: &'s ReferenceOr<T>,
    spec: &'s OpenAPI,
    prefix: &str,
    section: fn(&Components) -> &IndexMap<String, ReferenceOr<T>>,
) -> Option<&'s T> {
    match r {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix(prefix)?;
            match section(spec.components.as_ref()?).get(name)? {
                ReferenceOr::Item(item) => Some(item),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// Crate-style name of the service: the last part of `x-project-name`, else the title.
fn service_name(spec: &OpenAPI) -> String {
    let service = spec
        .extensions
        .get("x-project-name")
        .and_then(|v| v.as_str())
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .unwrap_or(&spec.info.title);
    heck::ToKebabCase::to_kebab_case(service)
}
