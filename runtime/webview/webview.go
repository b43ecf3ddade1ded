package webview

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// StaticPrefix is the path under which the page's assets are served; they
// need no token (statusauth.go opens it and /).
const StaticPrefix = "/ui/static/"

// Topology is what the page draws.
type Topology struct {
	Name    string `json:"name"`    // the topology function, e.g. "ClickCount"
	AppID   string `json:"app_id"`  // the running application id
	Mermaid string `json:"mermaid"` // the diagram (Diagram)
}

// Mount registers the page on mux:
//
//	GET /                  the page (index.html)
//	GET /ui/static/…       its script, style sheet and the Mermaid bundle
//	GET /ui/topology.json  topo, as JSON
//
// The group's live state (/ui/group.json) is the engine's to serve.
func Mount(mux *http.ServeMux, topo Topology) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(StaticPrefix, http.FileServerFS(sub))
	mux.Handle("GET "+StaticPrefix, files)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	body, err := json.Marshal(topo)
	if err != nil {
		panic(err) // strings only
	}
	mux.HandleFunc("GET /ui/topology.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}
