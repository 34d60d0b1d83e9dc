/// The service's OpenAPI 3.0 description, served at /api/openapi.json.
enum OpenAPI {
    static let document = #"""
    {"openapi": "3.0.3",
     "info": {"title": "Klynge", "version": "1.0", "description": "Village clusters and shared meeting places: OGC API Features, coverage, scenarios, maps."},
     "components": {
       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
       "schemas": {
         "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["status", "message"], "properties": {
           "status": {"type": "integer"}, "message": {"type": "string"}, "parameter": {"type": "string", "description": "the query or body parameter at fault"}}}}},
         "ClusteringCheck": {"type": "object", "required": ["assignments"], "properties": {
           "assignments": {"type": "object", "additionalProperties": {"type": "string"}, "description": "area id → cluster name"},
           "minPopulation": {"type": "number"}, "maxPopulation": {"type": "number"}, "maxMinutes": {"type": "number"},
           "mode": {"type": "string", "enum": ["car", "bike", "walk", "distance"]}, "require": {"type": "array", "items": {"type": "string"}},
           "scenario": {"type": "string"}, "within": {"type": "string"}, "minSharedMeters": {"type": "number"}}},
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
           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000000}},
           {"name": "bbox", "in": "query", "schema": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}, "style": "form", "explode": false}],
         "responses": {"200": {"description": "GeoJSON FeatureCollection with paging links"}, "400": {"description": "bad parameter"}}}},
       "/collections/{collectionId}/items/{featureId}": {"get": {"parameters": [
           {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string"}},
           {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "GeoJSON Feature"}, "404": {"description": "unknown"}}}},
       "/api/coverage": {"get": {"summary": "Coverage summary, per area and per village", "parameters": [
           {"name": "scenario", "in": "query", "schema": {"type": "string"}, "description": "a scenario's name or id"}, {"name": "category", "in": "query", "schema": {"type": "string"}},
           {"name": "close", "in": "query", "schema": {"type": "string"}, "description": "what-if: facility ids to close, comma-separated (at most 2000)"},
           {"name": "open", "in": "query", "schema": {"type": "string"}, "description": "what-if: new places lon,lat,name separated by | (WGS 84; at most 25; needs category)"},
           {"name": "points", "in": "query", "schema": {"type": "string", "enum": ["all", "changed", "none"], "default": "all"}, "description": "which villages to list: changed = only those differing from today"},
          {"name": "access", "in": "query", "schema": {"type": "string", "enum": ["all", "none"], "default": "all"}, "description": "the access figures (backup coverage, 2SFCA per 1,000 people): none leaves them out"},
          {"name": "decay", "in": "query", "schema": {"type": "string"}, "description": "also the gravity index and E2SFCA: linear:CUTOFF, power:BETA or exponential:BETA (per minute or km)"}],
         "responses": {"200": {"description": "CoverageReport"}, "503": {"description": "busy (Retry-After) or over the time limit"}, "400": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
       "/api/categories": {"get": {"summary": "The study's categories with Danish and English labels", "responses": {"200": {"description": "categories"}}}},
       "/api/compare": {"get": {"parameters": [{"name": "scenario", "in": "query", "required": true, "schema": {"type": "string"}},
           {"name": "against", "in": "query", "schema": {"type": "string"}}, {"name": "category", "in": "query", "schema": {"type": "string"}},
           {"name": "survey", "in": "query", "schema": {"type": "string"}, "description": "with the token: also the survey's users affected ({comparison, usersAffected})"},
           {"name": "decay", "in": "query", "schema": {"type": "string"}, "description": "also the gravity index and E2SFCA before and after"}],
         "responses": {"200": {"description": "Comparison"}}}},
       "/api/profile": {"get": {"summary": "The data picture: people and fact measures per study, cluster, area and village",
         "parameters": [{"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["da", "en"]}}], "responses": {"200": {"description": "Profile"}}}},
       "/api/survey-use": {"get": {"summary": "Users per facility from the study's citizen surveys, counts below the minimum group size withheld (null)",
         "responses": {"200": {"description": "per survey and facility question"}}}},
       "/api/impact": {"get": {"parameters": [{"name": "category", "in": "query", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "closures ranked"}}}},
       "/api/clusters": {"get": {"responses": {"200": {"description": "ClusterReport"}}}},
       "/api/optimize": {"post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["category", "objective"], "properties": {
           "category": {"type": "string"}, "objective": {"type": "string", "enum": ["coverage", "minimum", "median", "center", "backup", "attendance", "market-share", "target-share"]}, "facilities": {"type": "integer"},
           "threshold": {"type": "number", "description": "seconds or metres by the category's rule"}, "share": {"type": "number"},
           "candidates": {"type": "string", "enum": ["existing", "places"]}, "keep": {"type": "array", "items": {"type": "string"}}, "exclude": {"type": "array", "items": {"type": "string"}},
           "skipUnreachable": {"type": "boolean"}, "capacity": {"type": "number", "description": "places of every candidate without a mapped capacity (median, coverage, minimum)"},
           "mappedCapacities": {"type": "boolean", "description": "the mapped capacities only"}, "split": {"type": "boolean", "description": "a village may be shared between sites"},
           "decay": {"type": "string", "description": "attendance and market share: linear:CUTOFF, power:BETA or exponential:BETA (per minute or km)"},
           "competitors": {"type": "string", "description": "market share: the competing category"}, "attractiveness": {"type": "number", "description": "of every site without a mapped one"}}}}}},
         "responses": {"200": {"description": "solution, with each chosen site's load when capacitated"}, "422": {"description": "infeasible"}}}},
       "/api/regions": {"post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
           "clusters": {"type": "integer", "minimum": 1}, "maxClusters": {"type": "boolean"}, "objective": {"type": "string", "enum": ["travel", "balance", "count"]},
           "minPopulation": {"type": "number"}, "maxPopulation": {"type": "number"}, "maxMinutes": {"type": "number"},
           "mode": {"type": "string", "enum": ["car", "bike", "walk", "distance"]}, "require": {"type": "array", "items": {"type": "string"}},
           "scenario": {"type": "string"}, "within": {"type": "string"}, "locks": {"type": "object", "additionalProperties": {"type": "string"}},
           "hubs": {"type": "array", "items": {"type": "string"}}, "minSharedMeters": {"type": "number"},
           "solver": {"type": "string", "enum": ["exact", "heuristic", "auto"]}, "seed": {"type": "integer", "minimum": 0}}}}}},
         "responses": {"200": {"description": "RegionProposal"}, "422": {"description": "no partition fits; the reasons"}}}},
       "/api/regions/check": {"post": {"summary": "Check a hand-made clustering against constraints (read-only: no token)",
         "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClusteringCheck"}}}},
         "responses": {"200": {"description": "RegionCheck: clusters with their best hub and figures, problems (kind, text, cluster, area …), valid, neighbours"}}}},
       "/api/clusterings": {"get": {"responses": {"200": {"description": "the study's own clusters and the saved clusterings, with assignments; each saved one is also the collection clustering-{id}"}}},
         "post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/ClusteringCheck"},
             {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 200}}}]}}}},
           "responses": {"201": {"description": "saved"}, "409": {"description": "the name is taken"}, "422": {"description": "the check found problems; they are listed"}}}},
       "/api/scenarios": {"get": {"responses": {"200": {"description": "the study's own (read-only), the saved, and the invalid saved scenarios with their problem"}}},
         "post": {"security": [{"bearer": []}], "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}}},
           "responses": {"201": {"description": "saved; its ETag is never reused"}, "400": {"description": "invalid"}, "401": {"description": "no token"}, "409": {"description": "exists"}, "413": {"description": "too large"}}}},
       "/api/scenarios/{id}": {
         "get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "scenario with ETag"}, "404": {"description": "unknown"}}},
         "put": {"security": [{"bearer": []}], "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the ETag edited, or * (exists); weak tags never match"}],
           "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}}},
           "responses": {"200": {"description": "saved"}, "409": {"description": "name or id in use"}, "412": {"description": "changed meanwhile"}}},
         "delete": {"security": [{"bearer": []}], "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "If-Match", "in": "header", "schema": {"type": "string"}}], "responses": {"204": {"description": "deleted"}, "412": {"description": "changed meanwhile"}}}},
       "/maps/{file}": {"get": {"summary": "A map: STYLE.png, .svg or .pdf", "parameters": [
           {"name": "file", "in": "path", "required": true, "schema": {"type": "string"}},
           {"name": "scenario", "in": "query", "schema": {"type": "string"}}, {"name": "category", "in": "query", "schema": {"type": "string"}},
           {"name": "paper", "in": "query", "schema": {"type": "string"}}, {"name": "landscape", "in": "query", "schema": {"type": "boolean"}},
           {"name": "width", "in": "query", "schema": {"type": "integer", "minimum": 100, "maximum": 20000}}, {"name": "height", "in": "query", "schema": {"type": "integer", "minimum": 100, "maximum": 20000}},
           {"name": "dpi", "in": "query", "schema": {"type": "number", "minimum": 36, "maximum": 1200, "default": 150}}, {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["da", "en"]}}],
         "responses": {"200": {"description": "the map (at most 40 million pixels)"}, "400": {"description": "a parameter out of range"}, "404": {"description": "no such style"}, "503": {"description": "busy (Retry-After) or over the time limit"}}}}
     }}
    """#
}
