/// The service's OpenAPI 3.0 description, served at /api/openapi.json.
enum OpenAPI {
    static let document = #"""
    {"openapi": "3.0.3",
     "info": {"title": "Klynge", "version": "1.0", "description": "Village clusters and shared meeting places: OGC API Features, coverage, scenarios, maps."},
     "components": {
       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
       "schemas": {
         "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"message": {"type": "string"}}}}},
         "Scenario": {"type": "object", "required": ["name"], "properties": {
           "name": {"type": "string"}, "description": {"type": "string"},
           "close": {"type": "array", "items": {"type": "string"}},
           "open": {"type": "array", "items": {"type": "object", "required": ["name", "categories"], "properties": {
             "id": {"type": "string"}, "name": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}},
             "lonlat": {"type": "array", "items": {"type": "number"}}, "xy": {"type": "array", "items": {"type": "number"}},
             "at": {"type": "string"}, "capacity": {"type": "number"}, "annual_cost": {"type": "number"}}}},
           "merge": {"type": "array", "items": {"type": "object", "properties": {"keep": {"type": "string"}, "close": {"type": "array", "items": {"type": "string"}}}}},
           "recategorise": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}}}}}}}
       }},
     "paths": {
       "/": {"get": {"summary": "Landing page (OGC API Features)", "responses": {"200": {"description": "links"}}}},
       "/conformance": {"get": {"summary": "Conformance classes", "responses": {"200": {"description": "conformsTo"}}}},
       "/collections": {"get": {"summary": "Collections: study layers, coverage, clusters, scenario coverage", "responses": {"200": {"description": "collections"}}}},
       "/collections/{collectionId}": {"get": {"parameters": [{"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "collection"}, "404": {"description": "unknown"}}}},
       "/collections/{collectionId}/items": {"get": {"parameters": [
           {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string"}},
           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
           {"name": "bbox", "in": "query", "schema": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}, "style": "form", "explode": false}],
         "responses": {"200": {"description": "GeoJSON FeatureCollection with paging links"}, "400": {"description": "bad parameter"}}}},
       "/collections/{collectionId}/items/{featureId}": {"get": {"parameters": [
           {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string"}},
           {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "GeoJSON Feature"}, "404": {"description": "unknown"}}}},
       "/api/coverage": {"get": {"summary": "Coverage summary, per area and per village", "parameters": [
           {"name": "scenario", "in": "query", "schema": {"type": "string"}}, {"name": "category", "in": "query", "schema": {"type": "string"}}],
         "responses": {"200": {"description": "CoverageReport"}, "400": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
       "/api/categories": {"get": {"summary": "The study's categories with Danish and English labels", "responses": {"200": {"description": "categories"}}}},
       "/api/compare": {"get": {"parameters": [{"name": "scenario", "in": "query", "required": true, "schema": {"type": "string"}},
           {"name": "against", "in": "query", "schema": {"type": "string"}}, {"name": "category", "in": "query", "schema": {"type": "string"}}],
         "responses": {"200": {"description": "Comparison"}}}},
       "/api/impact": {"get": {"parameters": [{"name": "category", "in": "query", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "closures ranked"}}}},
       "/api/clusters": {"get": {"responses": {"200": {"description": "ClusterReport"}}}},
       "/api/optimize": {"post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["category", "objective"], "properties": {
           "category": {"type": "string"}, "objective": {"type": "string", "enum": ["coverage", "minimum", "median", "center"]}, "facilities": {"type": "integer"},
           "threshold": {"type": "number", "description": "seconds or metres by the category's rule"}, "share": {"type": "number"},
           "candidates": {"type": "string", "enum": ["existing", "places"]}, "keep": {"type": "array", "items": {"type": "string"}}, "exclude": {"type": "array", "items": {"type": "string"}}}}}}},
         "responses": {"200": {"description": "solution"}, "422": {"description": "infeasible"}}}},
       "/api/scenarios": {"get": {"responses": {"200": {"description": "study and saved scenarios"}}},
         "post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}}},
           "responses": {"201": {"description": "saved; ETag is its version"}, "400": {"description": "invalid"}, "401": {"description": "no token"}, "409": {"description": "exists"}, "413": {"description": "too large"}}}},
       "/api/scenarios/{id}": {
         "get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "scenario with ETag"}, "404": {"description": "unknown"}}},
         "put": {"security": [{"bearer": []}], "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}}],
           "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}}},
           "responses": {"200": {"description": "saved"}, "412": {"description": "changed meanwhile"}}},
         "delete": {"security": [{"bearer": []}], "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"204": {"description": "deleted"}}}},
       "/maps/{file}": {"get": {"summary": "A map: STYLE.png, .svg or .pdf", "parameters": [
           {"name": "file", "in": "path", "required": true, "schema": {"type": "string"}},
           {"name": "scenario", "in": "query", "schema": {"type": "string"}}, {"name": "category", "in": "query", "schema": {"type": "string"}},
           {"name": "paper", "in": "query", "schema": {"type": "string"}}, {"name": "landscape", "in": "query", "schema": {"type": "boolean"}},
           {"name": "width", "in": "query", "schema": {"type": "integer"}}, {"name": "height", "in": "query", "schema": {"type": "integer"}},
           {"name": "dpi", "in": "query", "schema": {"type": "number"}}, {"name": "lang", "in": "query", "schema": {"type": "string"}}],
         "responses": {"200": {"description": "the map"}}}}
     }}
    """#
}
