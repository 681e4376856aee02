//! The OpenAPI 3.1 document, made from the route list itself: every route is in it, with who
//! may call it (`x-firewarden-access`), so clients and the tenant-isolation test see exactly
//! what the server serves.

use crate::api::{Access, routes};
use serde_json::{Map, Value, json};

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in routes() {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "operationId": format!("{} {}", r.method, r.path),
            "parameters": params,
            "x-firewarden-access": r.access,
            "responses": {
                "200": {"description": "OK (201 when something was made)", "content": {"application/json": {}}},
                "4XX": {"description": "Refused, with the reason: `{error, status}`", "content": {"application/json": {}}}
            }
        });
        if r.access != Access::Public {
            op["security"] = json!([{"bearer": []}]);
        }
        if let Some((media, what)) = r.body {
            op["requestBody"] =
                json!({"required": true, "description": what, "content": {media: {}}});
        }
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Firewarden case platform",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Cases through six gated stages. Another tenant's data answers 404, as if it did not exist."
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths
    })
}
