package httpd

import (
	"embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// consoleFS is the web console (OPS.md §4): one page, its stylesheet,
// script and icon, written for rdb, with no build step and nothing
// loaded from elsewhere, so it works on a machine without internet.
//
//go:embed console
var consoleFS embed.FS

// consoleFiles are the files served under /console/, with their types;
// any other path is 404.
var consoleFiles = map[string]string{
	"index.html":           "text/html; charset=utf-8",
	"static/css/style.css": "text/css; charset=utf-8",
	"static/js/app.js":     "text/javascript; charset=utf-8",
	"static/favicon.ico":   "image/x-icon",
}

// consoleCSP keeps the console to its own files and this node's API.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// numUI counts console requests ("http" expvar map, as rqlite's http.ui).
const numUI = "ui"

func init() { stats.Add(numUI, 0) }

// handleRoot serves / (any method): 302 to the console.
func (s *Service) handleRoot(c echo.Context) error {
	return c.Redirect(http.StatusFound, "/console/")
}

// handleConsole serves GET and HEAD /console…: /console is 301 to
// /console/, which is index.html.
func (s *Service) handleConsole(c echo.Context) error {
	stats.Add(numUI, 1)
	p := c.Request().URL.Path
	if p == "/console" {
		return c.Redirect(http.StatusMovedPermanently, "/console/")
	}
	name, ok := strings.CutPrefix(p, "/console/")
	if !ok {
		return echo.ErrNotFound
	}
	if name == "" {
		name = "index.html"
	}
	ctype, ok := consoleFiles[name]
	if !ok {
		return echo.ErrNotFound
	}
	b, err := consoleFS.ReadFile("console/" + name)
	if err != nil {
		return fmt.Errorf("console file %s: %w", name, err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("Referrer-Policy", "same-origin")
	return c.Blob(http.StatusOK, ctype, b)
}
