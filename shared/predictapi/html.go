package predictapi

import (
	"encoding/json"
	"html/template"
	"io"
	"maps"
	"slices"
	"sort"
)

// RenderHTML writes a readable page of an OpenAPI document: each endpoint
// with its responses, and each schema with its fields, types, units and
// ranges. It needs no scripts or assets, so it works offline.
func RenderHTML(w io.Writer, doc *OpenAPI) error {
	type op struct {
		Method, Path, Summary string
		Responses             []string
	}
	type field struct {
		Name, Type, Detail string
		Required           bool
	}
	type sch struct {
		Name, Description string
		Fields            []field
	}
	var ops []op
	for path, methods := range doc.Paths {
		for method, o := range methods {
			ops = append(ops, op{Method: method, Path: path, Summary: o.Summary, Responses: slices.Sorted(maps.Keys(o.Responses))})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	var schemas []sch
	for name, s := range doc.Components.Schemas {
		x := sch{Name: name, Description: s.Description}
		for fname, p := range s.Properties {
			f := field{Name: fname, Required: slices.Contains(s.Required, fname), Type: p.Type}
			if f.Type == "" {
				f.Type = p.RefName()
			}
			detail := p.Description
			if p.Enum != nil {
				ev, _ := json.Marshal(p.Enum)
				detail += " One of " + string(ev) + "."
			}
			if p.Minimum != nil {
				detail += " Minimum " + jsonText(*p.Minimum) + "."
			}
			if p.Maximum != nil {
				detail += " Maximum " + jsonText(*p.Maximum) + "."
			}
			f.Detail = detail
			x.Fields = append(x.Fields, f)
		}
		sort.Slice(x.Fields, func(i, j int) bool { return x.Fields[i].Name < x.Fields[j].Name })
		schemas = append(schemas, x)
	}
	sort.Slice(schemas, func(i, j int) bool { return schemas[i].Name < schemas[j].Name })
	return page.Execute(w, map[string]any{"Info": doc.Info, "Ops": ops, "Schemas": schemas})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var page = template.Must(template.New("api").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Info.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .v{color:#666} code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem} td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.m{font-weight:bold;text-transform:uppercase;color:#fff;border-radius:3px;padding:.1rem .4rem;font-size:.8rem}
.post{background:#2a7ae2}.get{background:#2b9a4a} .req{color:#b00}
</style></head><body>
<h1>{{.Info.Title}}</h1><div class="v">version {{.Info.Version}} · machine-readable: <a href="/openapi.json">/openapi.json</a></div>
<p>{{.Info.Description}}</p>
<h2>Endpoints</h2><table><tr><th>Method</th><th>Path</th><th>What</th><th>Responses</th></tr>
{{range .Ops}}<tr><td><span class="m {{.Method}}">{{.Method}}</span></td><td><code>{{.Path}}</code></td><td>{{.Summary}}</td><td>{{range .Responses}}{{.}} {{end}}</td></tr>{{end}}
</table>
<h2>Schemas</h2>
{{range .Schemas}}<h3 id="{{.Name}}">{{.Name}}</h3>{{if .Description}}<p>{{.Description}}</p>{{end}}
<table><tr><th>Field</th><th>Type</th><th>Meaning, unit and range</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">*</span>{{end}}</td><td>{{.Type}}</td><td>{{.Detail}}</td></tr>{{end}}
</table>{{end}}
<p><span class="req">*</span> required</p>
</body></html>
`))
