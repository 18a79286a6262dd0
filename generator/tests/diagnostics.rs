//! Bad input gets a clear error with file, line, column and a hint; never a panic.

use std::path::PathBuf;

fn spec(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const ENTITY: &str = r#"openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      x-codegen-schema-type: entity
      x-codegen:
        repository:
          indexes: [name]
          excludeFromUpdate: [nmae]
      type: object
      required: [id, name]
      properties:
        id: {type: string, format: uuid}
        name: {type: string}
"#;

/// The generated file whose path ends in `suffix`, without spaces or line breaks, so assertions
/// do not depend on where the formatter breaks lines.
fn compact_file(spec: &std::path::Path, suffix: &str) -> String {
    let generated = archgen::generate(spec, None).unwrap();
    let (_, text) = generated
        .files
        .iter()
        .find(|(p, _)| p.ends_with(suffix))
        .unwrap();
    text.replace(['\n', ' '], "")
}

#[test]
fn unknown_key_and_unknown_field_are_reported_together_with_positions() {
    let (_dir, path) = spec(ENTITY);
    let d = archgen::validate(&path);
    let text = d.to_string();
    let file = path.display().to_string();
    assert!(
        text.contains(&format!(
            "{file}:10:11: error: unknown annotation key `indexes`"
        )),
        "{text}"
    );
    assert!(text.contains("hint: did you mean `indices`?"), "{text}");
    assert!(
        text.contains(&format!(
            "{file}:11:31: error: excludeFromUpdate names `nmae`, which is not a field of `Pet`"
        )),
        "{text}"
    );
    assert!(text.contains("hint: did you mean `name`?"), "{text}");
    assert_eq!(d.errors().count(), 2, "{text}");
}

#[test]
fn dangling_ref_names_the_ref() {
    let (_dir, path) = spec(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties:\n        b: {$ref: '#/components/schemas/Bee'}\n    Be: {type: string}\n",
    );
    let text = archgen::validate(&path).to_string();
    assert!(text.contains(":9:"), "{text}");
    assert!(text.contains("Bee"), "{text}");
}

#[test]
fn broken_yaml_has_a_position() {
    let (_dir, path) = spec("openapi: 3.0.3\ninfo: {title: t\npaths: {}\n");
    let text = archgen::validate(&path).to_string();
    assert!(text.contains(&format!("{}:", path.display())), "{text}");
    assert!(text.contains("error"), "{text}");
}

#[test]
fn entity_without_id_is_an_error_with_a_hint() {
    let (_dir, path) = spec(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Pet:\n      x-codegen-schema-type: entity\n      type: object\n      properties:\n        name: {type: string}\n",
    );
    let text = archgen::validate(&path).to_string();
    assert!(text.contains("entity `Pet` has no `id` field"), "{text}");
    assert!(text.contains("hint:"), "{text}");
}

#[test]
fn archesai_spec_problems_point_into_the_real_file_and_leave_the_rest_generated() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/arches/head-2025-12/auth.openapi.bundled.yaml");
    if !path.exists() {
        eprintln!("!!! SKIPPING: shared fixtures are not next to the repository !!!");
        return;
    }
    let text = archgen::validate(&path).to_string();
    assert!(
        text.contains(
            "auth.openapi.bundled.yaml:3234:19: warning: method GetUserBySessionID names `sessionID`"
        ),
        "{text}"
    );
    assert!(archgen::generate(&path, None).is_ok());
}

/// Malformed and hostile documents: each must come back as `Ok` or a diagnostic, never a panic.
#[test]
fn malformed_specs_never_panic() {
    let cases = [
        "",
        "[]",
        "openapi: 3.1.0",
        "openapi: 3.1.0\ninfo: 7\npaths: []",
        "openapi: 2.0\ninfo: {title: t, version: '1'}\npaths: {}",
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses: {'200': {$ref: '#/components/responses/Nope'}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/A'}}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {x-codegen-schema-type: entity, allOf: [{$ref: '#/components/schemas/A'}]}}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {x-codegen-schema-type: entity, x-codegen: 5, type: object, properties: {id: {type: string, format: uuid}}}}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {x-codegen-schema-type: thing, type: object}}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {'/a/{x}': {get: {operationId: a, responses: {'204': {description: d}}}}, '/a/{y}': {post: {operationId: b, responses: {'204': {description: d}}}}}}",
        "a: &a [*a]",
        "openapi: 3.0.3\n\tinfo: x",
    ];
    for (i, text) in cases.iter().enumerate() {
        let (_dir, path) = spec(text);
        let result = std::panic::catch_unwind(|| archgen::generate(&path, None));
        assert!(result.is_ok(), "case {i} panicked: {text}");
    }
}

#[test]
fn paths_differing_only_in_parameter_names_share_a_route() {
    let (_dir, path) = spec(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {'/a/{x}': {get: {operationId: a, responses: {'204': {description: d}}}}, '/a/{y}': {post: {operationId: b, responses: {'204': {description: d}}}}}",
    );
    let generated = archgen::generate(&path, None).unwrap();
    let routes = &generated.model.routes;
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0].path, "/a/{x}");
    let methods: Vec<&str> = routes[0]
        .handlers
        .iter()
        .map(|h| h.method.as_str())
        .collect();
    assert_eq!(methods, ["get", "post"]);
}

#[test]
fn an_operation_axum_could_not_route_is_left_out_with_a_warning_not_a_runtime_panic() {
    let (_dir, path) = spec(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {'/a/{x}': {get: {operationId: a, responses: {'204': {description: d}}}}, '/a/{y}': {get: {operationId: b, responses: {'204': {description: d}}}}}",
    );
    let generated = archgen::generate(&path, None).unwrap();
    assert_eq!(generated.model.routes[0].handlers.len(), 1);
    let warnings = generated.warnings.to_string();
    assert!(
        warnings.contains("GET /a/{y} is not served: `a` already answers GET /a/{x}"),
        "{warnings}"
    );
}

#[test]
fn field_annotations_are_located_at_the_property_and_refs_do_not_leak_schema_annotations() {
    let (_dir, path) = spec(
        r#"openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Base:
      type: object
      required: [id]
      properties:
        id: {type: string, format: uuid}
    Owner:
      x-codegen-schema-type: entity
      x-codegen: {repository: {indices: [id]}}
      allOf:
        - $ref: '#/components/schemas/Base'
    Pet:
      x-codegen-schema-type: entity
      allOf:
        - $ref: '#/components/schemas/Base'
        - type: object
          properties:
            owner: {$ref: '#/components/schemas/Owner'}
            email:
              type: string
              x-codegen: {uniqe: true}
"#,
    );
    let d = archgen::validate(&path);
    let text = d.to_string();
    assert_eq!(d.errors().count(), 1, "{text}");
    assert!(
        text.contains(&format!(
            "{}:25:27: error: unknown annotation key `uniqe`",
            path.display()
        )),
        "{text}"
    );
    assert!(text.contains("did you mean `unique`?"), "{text}");
}

#[test]
fn methods_without_params_and_empty_constraints_are_errors() {
    let (_dir, path) = spec(
        r#"openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      x-codegen-schema-type: entity
      x-codegen:
        repository:
          uniqueConstraints: [[]]
          additionalMethods:
            - {name: ListAll, params: [], returns: multiple}
            - {name: GetByName, params: [{type: string}], returns: single}
      type: object
      properties:
        id: {type: string, format: uuid}
        name: {type: string}
"#,
    );
    let text = archgen::validate(&path).to_string();
    assert!(
        text.contains("a unique constraint needs at least one field"),
        "{text}"
    );
    assert!(text.contains("method `ListAll` has no params"), "{text}");
    assert!(text.contains("a method parameter needs a `name`"), "{text}");
}

#[test]
fn relation_to_a_missing_field_is_an_error() {
    let (_dir, path) = spec(
        r#"openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Author:
      x-codegen-schema-type: entity
      type: object
      properties:
        id: {type: string, format: uuid}
    Book:
      x-codegen-schema-type: entity
      x-codegen:
        repository:
          relations:
            - {field: authorID, references: Author, referencesField: uuid}
            - {field: authorID, references: Writer}
      type: object
      properties:
        id: {type: string, format: uuid}
        authorID: {type: string, format: uuid}
"#,
    );
    let text = archgen::validate(&path).to_string();
    assert!(
        text.contains(":16:33: error: relation Book.authorID references field `uuid` of `Author`"),
        "{text}"
    );
    assert!(
        text.contains(":17:33: warning: relation Book.authorID references `Writer`"),
        "{text}"
    );
}

#[test]
fn init_never_overwrites_an_existing_project() {
    let dir = tempfile::tempdir().unwrap();
    let spec =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/storage/openapi.yaml");
    let init = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_archgen"))
            .arg("init")
            .arg(dir.path().join("svc"))
            .arg("--spec")
            .arg(&spec)
            .output()
            .unwrap()
    };
    assert!(init().status.success());
    let again = init();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a project"));
}

/// Quirks of real specs that once stopped generation, each in miniature.
#[test]
fn real_spec_quirks_generate() {
    let (_dir, path) = spec(
        "openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /db:
    get:
      operationId: getDb
      tags: [common]
      x-codegen-request-body-name: body
      x-internal: true
      summary: \"Two\\r\\nlines\\u2028and a bare\\rreturn\"
      callbacks:
        hook: {$ref: '#/components/callbacks/Hook'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  allow: {$ref: '#/components/schemas/Database/properties/allow_list'}
                  again: {$ref: '#/paths/~1db/get/responses/200/content/application~1json/schema/properties/size'}
                  size: {type: integer}
                  db: {$ref: '#/components/schemas/Database'}
components:
  callbacks:
    Hook:
      '{$request.query.url}':
        post: {responses: {'204': {description: d}}}
  schemas:
    Database:
      type: object
      properties:
        allow_list: {type: array, items: {type: string}}
        version: {type: string, enum: [v1, v2, v1]}
",
    );
    let generated = archgen::generate(&path, None).unwrap_or_else(|d| panic!("{d}"));
    let all: String = generated.files.values().cloned().collect();
    assert!(
        all.contains("pub mod common_domain;"),
        "a tag named `common`"
    );
    assert!(
        all.contains("pub allow: Option<Vec<String>>") && all.contains("pub again: Option<i64>"),
        "references into a property and into `paths` resolve to their schemas"
    );
    assert!(all.contains(r#" => "v1", "v2");"#), "one variant per value");
    assert!(
        all.contains("Two lines and a bare return"),
        "summary on one line"
    );
}

/// Unions of arrays of unions, seven deep: each level's rule is a static referenced by the
/// next, never a copy, so the output grows with the spec instead of doubling per level (a
/// 256 KB real spec once produced a 1 GB file).
#[test]
fn nested_unions_do_not_multiply_out() {
    let mut text = String::from(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      operationId: x\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/L0'}\n      responses: {'204': {description: d}}\ncomponents:\n  schemas:\n",
    );
    for i in 0..7 {
        let next = i + 1;
        text.push_str(&format!(
            "    L{i}:\n      oneOf:\n        - $ref: '#/components/schemas/L{next}'\n        - type: array\n          items: {{$ref: '#/components/schemas/L{next}'}}\n        - type: object\n          properties: {{a: {{$ref: '#/components/schemas/L{next}'}}, b: {{$ref: '#/components/schemas/L{next}'}}}}\n"
        ));
    }
    text.push_str("    L7: {type: string}\n");
    let (_dir, path) = spec(&text);
    let generated = archgen::generate(&path, None).unwrap_or_else(|d| panic!("{d}"));
    let size: usize = generated.files.values().map(String::len).sum();
    assert!(size < 100_000, "{size} bytes of output for a 1 KB spec");
}

const SECURED: &str = r#"openapi: 3.0.3
info: {title: t, version: "1"}
security:
  - bearerAuth: []
paths:
  /open:
    get:
      operationId: open
      security: [{}]
      x-codegen-permissions: [things:read]
      responses: {'204': {description: d}}
  /keyed:
    get:
      operationId: keyed
      security: [{apiKey: [things:read]}, {partnerSig: []}]
      x-codegen-permissions: {roles: [admin], permissions: [things:write]}
      responses: {'204': {description: d}}
  /digest:
    get:
      operationId: digest
      security: [{digestAuth: []}]
      x-codegen-permissions: {}
      responses: {'204': {description: d}}
components:
  securitySchemes:
    apiKey: {type: apiKey, in: header, name: X-API-Key}
    digestAuth: {type: http, scheme: digest}
"#;

#[test]
fn security_problems_are_located_and_fail_closed() {
    let (_dir, path) = spec(SECURED);
    let text = archgen::validate(&path).to_string();
    let file = path.display().to_string();
    // Permissions on an open operation have no caller to check.
    assert!(
        text.contains(&format!(
            "{file}:10:7: error: `x-codegen-permissions` on an operation that anyone may call"
        )),
        "{text}"
    );
    // An empty permissions object names nothing.
    assert!(
        text.contains(&format!(
            "{file}:22:7: error: `x-codegen-permissions` names nothing"
        )),
        "{text}"
    );
    // An undeclared scheme named like a bearer token is one; any other can never be satisfied.
    assert!(
        text.contains(
            "names `bearerAuth`, which is not declared: treated as `type: http, scheme: bearer`"
        ),
        "{text}"
    );
    assert!(
        text.contains("names `partnerSig`, which is not declared: no request can satisfy it"),
        "{text}"
    );
    assert!(
        text.contains("`digestAuth` uses HTTP `digest`, which archgen cannot verify"),
        "{text}"
    );
}

#[test]
fn requirements_and_permissions_reach_the_handlers() {
    let source = SECURED
        .replace("      x-codegen-permissions: [things:read]\n", "")
        .replace("      x-codegen-permissions: {}\n", "");
    let (_dir, path) = spec(&source);
    let generated = archgen::generate(&path, None).unwrap();
    let http = generated
        .files
        .iter()
        .find(|(p, _)| p.ends_with("http.rs"))
        .map(|(_, text)| text.clone())
        .unwrap();
    // Compared without whitespace or commas: the formatter decides line breaks and trailing commas.
    let flat = |text: &str| text.replace(['\n', ' ', ','], "");
    let http = flat(&http);
    for expected in [
        r#"NEEDS_API_KEY_OR_PARTNER_SIG: &[rt::auth::Requirement] = &[&[("apiKey", &["things:read"])], &[("partnerSig", &[])]"#,
        r#".secured(NEEDS_API_KEY_OR_PARTNER_SIG).permissions(&["admin"], &["things:write"])"#,
    ] {
        assert!(http.contains(&flat(expected)), "{expected}\n{http}");
    }
    // The open operation declares no check at all.
    let open = http
        .split("pubasyncfnopen<")
        .nth(1)
        .expect("the open handler");
    let open = open.split("pubasyncfn").next().unwrap_or(open);
    assert!(
        !open.contains(".secured(") && !open.contains(".permissions("),
        "{open}"
    );
    let root = &generated.files[&PathBuf::from("mod.rs")];
    for scheme in [
        r#"name: "apiKey", kind: rt::auth::SchemeKind::ApiKey { location: rt::auth::Location::Header, name: "X-API-Key" }"#,
        r#"name: "bearerAuth", kind: rt::auth::SchemeKind::Bearer"#,
        r#"name: "partnerSig", kind: rt::auth::SchemeKind::Unsupported"#,
    ] {
        assert!(flat(root).contains(&flat(scheme)), "{scheme}\n{root}");
    }
}

#[test]
fn parameters_that_promise_more_than_the_service_reads_are_warned_about() {
    let library =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs/library.yaml");
    let text = archgen::validate(&library).to_string();
    assert!(
        text.contains("the `sort` parameter of GET /books accepts any text, but the service sorts only on the entity's fields"),
        "{text}"
    );
    assert!(
        text.contains("operation(s) need credentials but declare no 401 response"),
        "{text}"
    );
    let arches = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/arches/head-2025-12/storage.openapi.bundled.yaml");
    if arches.exists() {
        let text = archgen::validate(&arches).to_string();
        assert!(
            text.contains("the `sort` parameter of GET /artifacts is an array of objects"),
            "{text}"
        );
    }
}

#[test]
fn a_body_looser_than_its_entity_is_held_to_the_entity_rules() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /pets:
    post:
      operationId: createPet
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string}
                legs: {type: integer}
      responses:
        '201':
          description: d
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {$ref: '#/components/schemas/Pet'}
components:
  schemas:
    Pet:
      x-codegen-schema-type: entity
      type: object
      required: [id, name, legs]
      properties:
        id: {type: string, format: uuid}
        name: {type: string, maxLength: 10, pattern: '^[a-z]+$'}
        legs: {type: integer, minimum: 0, maximum: 8}
"#,
    );
    let http = compact_file(&path, "http.rs");
    // What the server stores, its responses must be allowed to show.
    assert!(http.contains(".max_len(10)"), "{http}");
    assert!(http.contains(r#".pattern("^[a-z]+$")"#), "{http}");
    assert!(http.contains(".max(8.0)"), "{http}");
}

/// The same inline shape in two places is one type (typify's structural deduplication): a
/// second copy would only cost its users a conversion and the compiler its derives.
#[test]
fn inline_objects_of_the_same_shape_are_one_type() {
    let shape = "{type: object, required: [total], properties: {total: {type: integer}, next: {type: string}}}";
    let (_dir, path) = spec(&format!(
        "openapi: 3.1.0
info: {{title: t, version: '1'}}
paths:
  /a:
    get:
      operationId: countApples
      responses:
        '200': {{description: ok, content: {{application/json: {{schema: {shape}}}}}}}
  /b:
    get:
      operationId: countPears
      responses:
        '200': {{description: ok, content: {{application/json: {{schema: {shape}}}}}}}
  /c:
    get:
      operationId: countPlums
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{type: object, required: [total], properties: {{total: {{type: integer}}}}}}
"
    ));
    let generated = archgen::generate(&path, None).unwrap_or_else(|d| panic!("{d}"));
    let all: String = generated.files.values().cloned().collect();
    assert_eq!(all.matches("pub next: Option<String>").count(), 1, "{all}");
    // Pears answer the apples' type.
    assert_eq!(
        all.matches("rt::Reply<CountApplesResponse>").count(),
        2,
        "{all}"
    );
    // Another shape stays its own type.
    assert!(all.contains("rt::Reply<CountPlumsResponse>"), "{all}");
}

/// A path that looks nested is generated only when each level has a field holding its
/// parent's id; otherwise it is left to a custom handler, with a warning at the operation.
#[test]
fn a_nested_path_without_a_matching_field_is_custom_with_a_located_warning() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /shelves/{shelfID}/books:
    get:
      operationId: listShelfBooks
      parameters:
        - {name: shelfID, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        '200':
          description: d
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: array, items: {$ref: '#/components/schemas/Book'}}
  /shelves/{shelf}/notes:
    get:
      operationId: listShelfNotes
      parameters:
        - {name: shelf, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        '200':
          description: d
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: array, items: {$ref: '#/components/schemas/Note'}}
components:
  schemas:
    Book:
      x-codegen-schema-type: entity
      type: object
      required: [id]
      properties:
        id: {type: string, format: uuid}
    Note:
      x-codegen-schema-type: entity
      type: object
      required: [id, shelfId]
      properties:
        id: {type: string, format: uuid}
        shelfId: {type: string, format: uuid}
"#,
    );
    let text = archgen::validate(&path).to_string();
    let file = path.display().to_string();
    assert!(
        text.contains(&format!(
            "{file}:5:5: warning: GET /shelves/{{shelfID}}/books looks nested, but `Book` has no UUID field for its parameter `{{shelfID}}`"
        )),
        "{text}"
    );
    // `{shelf}` names `shelfId`; `shelves` is no entity, so only the scope is checked.
    assert!(
        text.contains(
            "the parent `{shelf}` is not checked to exist, since `shelves` names no entity"
        ),
        "{text}"
    );
    let service = compact_file(&path, "service.rs");
    assert!(
        service.contains(r#"rt::unimplemented("ListShelfBooks""#),
        "{service}"
    );
    assert!(
        service.contains(r#"query.within(&NOTE_TABLE,"shelfId",shelf)?"#),
        "{service}"
    );
}

/// A readOnly property is the server's to send: a request body that carries it is refused.
#[test]
fn read_only_properties_are_refused_in_request_bodies() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      operationId: sendThing
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '204': {description: d}
components:
  schemas:
    Thing:
      type: object
      required: [id, name]
      properties:
        id: {type: string, format: uuid, readOnly: true}
        name: {type: string}
        secret: {type: string, writeOnly: true}
"#,
    );
    let http = compact_file(&path, "http.rs");
    assert!(http.contains(r#"("id","isread-only")"#), "{http}");
    assert!(!http.contains(r#"v::required("id""#), "{http}");
}

/// `/shelves/{id}/books`: the parent's own `{id}` names the field the parent entity's name
/// gives (`shelfID`).
#[test]
fn a_parent_named_by_its_own_id_is_found_through_its_entity_name() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /shelves/{id}:
    delete:
      operationId: deleteShelf
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        '204': {description: d}
  /shelves/{id}/books:
    get:
      operationId: listShelfBooks
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        '200':
          description: d
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: array, items: {$ref: '#/components/schemas/Book'}}
components:
  schemas:
    Shelf:
      x-codegen-schema-type: entity
      type: object
      required: [id]
      properties:
        id: {type: string, format: uuid}
    Book:
      x-codegen-schema-type: entity
      type: object
      required: [id, shelfID]
      properties:
        id: {type: string, format: uuid}
        shelfID: {type: string, format: uuid}
"#,
    );
    let text = archgen::validate(&path).to_string();
    assert!(!text.contains("looks nested"), "{text}");
    let service = compact_file(&path, "service.rs");
    assert!(
        service.contains(r#".get(id2).await?,"Shelf",id2)?"#),
        "{service}"
    );
    assert!(
        service.contains(r#"query.within(&BOOK_TABLE,"shelfID",id2)?"#),
        "{service}"
    );
}

/// A readOnly field that is required and has no default has no value a create could store.
#[test]
fn a_required_read_only_field_needs_a_default() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Call:
      x-codegen-schema-type: entity
      type: object
      required: [id, code, status]
      properties:
        id: {type: string, format: uuid}
        code: {type: string, readOnly: true}
        status: {type: string, enum: [open, shut], default: open, readOnly: true}
"#,
    );
    let d = archgen::validate(&path);
    let text = d.to_string();
    let file = path.display().to_string();
    assert!(
        text.contains(&format!(
            "{file}:12:9: error: `code` of entity `Call` is readOnly and required, with no default"
        )),
        "{text}"
    );
    assert_eq!(
        d.errors().count(),
        1,
        "the one with a default is fine: {text}"
    );
}

/// `/stores/{storeID}/orders/{orderID}/lines` with orders in another domain: nothing could check
/// that the order belongs to the store, so the operation is left to a custom handler.
#[test]
fn a_middle_parent_of_another_domain_leaves_the_operation_custom() {
    let (_dir, path) = spec(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orders:
    get:
      operationId: listOrders
      tags: [sales]
      responses:
        '200':
          description: d
          content:
            application/json:
              schema: {type: object, properties: {data: {type: array, items: {$ref: '#/components/schemas/Order'}}}}
  /stores/{storeID}/orders/{orderID}/lines:
    get:
      operationId: listLines
      tags: [shop]
      parameters:
        - {name: storeID, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: orderID, in: path, required: true, schema: {type: string, format: uuid}}
      responses:
        '200':
          description: d
          content:
            application/json:
              schema: {type: object, properties: {data: {type: array, items: {$ref: '#/components/schemas/Line'}}}}
components:
  schemas:
    Store:
      x-codegen-schema-type: entity
      x-internal: shop
      type: object
      required: [id]
      properties:
        id: {type: string, format: uuid}
    Order:
      x-codegen-schema-type: entity
      type: object
      required: [id, storeID]
      properties:
        id: {type: string, format: uuid}
        storeID: {type: string, format: uuid}
    Line:
      x-codegen-schema-type: entity
      type: object
      required: [id, orderID]
      properties:
        id: {type: string, format: uuid}
        orderID: {type: string, format: uuid}
"#,
    );
    let text = archgen::validate(&path).to_string();
    assert!(
        text.contains("GET /stores/{storeID}/orders/{orderID}/lines: the parent `{orderID}` names no entity of this domain"),
        "{text}"
    );
    let service = compact_file(&path, "shop/service.rs");
    assert!(
        service.contains(r#"rt::unimplemented("ListLines""#),
        "{service}"
    );
}
