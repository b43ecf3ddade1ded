// Package webview is the live web page each replica serves at / on its status
// address: the topology as a Mermaid diagram, the group's members and leader,
// the assignment and its history, checkpoints, and per-task lag and throughput.
//
// How data flows: the page (static/index.html, app.js, style.css) and the
// Mermaid bundle (static/mermaid.min.js, fetched by scripts/fetch-mermaid.sh)
// are embedded in the binary and served as they are, so the page works with no
// internet and needs no build step. Once loaded, the page reads
// /ui/topology.json once (the diagram's Mermaid text, from the compiled
// Program: Diagram) and /ui/group.json every second (the engine's fan-out of
// every member's /status, runtime/engine/webview.go), and redraws its tables
// from them; throughput is the change of each task's processed-records count
// between two polls. With a status token, the page and its assets are served
// without it (they hold nothing of the group) and the page sends the token,
// taken from the URL's #token= fragment or asked for, as a bearer token with
// its JSON requests.
package webview
