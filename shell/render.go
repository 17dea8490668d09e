package shell

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/rdb/rdb/client"
)

// modes are the .mode values.
var modes = []string{"column", "csv", "json", "line"}

// render prints a rows result in the current mode.
func (s *Shell) render(r client.Result) {
	switch s.mode {
	case "csv":
		renderCSV(s.out, r)
	case "json":
		renderJSON(s.out, r)
	case "line":
		renderLine(s.out, r)
	default:
		width := 0
		if f, ok := s.stdout.(*os.File); ok && s.color && s.file == nil {
			width = terminalWidth(f)
		}
		renderColumn(s.out, r, s.color && s.file == nil, width)
	}
}

// formatValue renders one value; null is the text for SQL NULL.
func formatValue(v any, null string) string {
	switch v := v.(type) {
	case nil:
		return null
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = formatValue(e, null)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// renderColumn draws rqlite's ASCII box; NULL shows as <nil>. With a
// terminal width (maxWidth > 0) the widest columns are narrowed to fit and
// their values wrap inside the cell; nothing is cut off.
func renderColumn(w io.Writer, r client.Result, color bool, maxWidth int) {
	header := make([][]string, len(r.Columns))
	rows := make([][][]string, len(r.Values))
	widths := make([]int, len(r.Columns))
	for j, c := range r.Columns {
		header[j] = strings.Split(c, "\n")
		widths[j] = maxLineWidth(header[j])
	}
	for i, row := range r.Values {
		rows[i] = make([][]string, len(r.Columns))
		for j := range r.Columns {
			v := ""
			if j < len(row) {
				v = formatValue(row[j], "<nil>")
			}
			rows[i][j] = strings.Split(v, "\n")
			widths[j] = max(widths[j], maxLineWidth(rows[i][j]))
		}
	}
	fitWidths(widths, maxWidth)
	var b strings.Builder
	border := func() {
		b.WriteByte('+')
		for _, wd := range widths {
			b.WriteString(strings.Repeat("-", wd+2) + "+")
		}
		b.WriteByte('\n')
	}
	border()
	writeRow(&b, header, widths, color)
	border()
	for _, row := range rows {
		writeRow(&b, row, widths, false)
	}
	if len(rows) > 0 {
		border()
	}
	io.WriteString(w, b.String())
}

func maxLineWidth(lines []string) int {
	m := 0
	for _, l := range lines {
		m = max(m, runewidth.StringWidth(l))
	}
	return m
}

// fitWidths narrows the widest columns, down to 8 cells each, until the
// table (3 cells of border and padding per column, plus one) fits.
func fitWidths(widths []int, maxWidth int) {
	if maxWidth <= 0 {
		return
	}
	total := 1
	for _, wd := range widths {
		total += wd + 3
	}
	for total > maxWidth {
		widest := 0
		for j := range widths {
			if widths[j] > widths[widest] {
				widest = j
			}
		}
		if widths[widest] <= 8 {
			return
		}
		widths[widest]--
		total--
	}
}

// writeRow writes one table row, wrapping each cell to its column width;
// the row is as tall as its tallest cell.
func writeRow(b *strings.Builder, cells [][]string, widths []int, color bool) {
	wrapped := make([][]string, len(cells))
	height := 1
	for j, lines := range cells {
		for _, l := range lines {
			wrapped[j] = append(wrapped[j], wrapLine(l, widths[j])...)
		}
		height = max(height, len(wrapped[j]))
	}
	for k := 0; k < height; k++ {
		b.WriteByte('|')
		for j := range cells {
			part := ""
			if k < len(wrapped[j]) {
				part = wrapped[j][k]
			}
			pad := runewidth.FillRight(part, widths[j])
			if color {
				pad = "\x1b[1;32m" + pad + "\x1b[0m"
			}
			b.WriteString(" " + pad + " |")
		}
		b.WriteByte('\n')
	}
}

// wrapLine splits s into pieces at most width cells wide.
func wrapLine(s string, width int) []string {
	if runewidth.StringWidth(s) <= width {
		return []string{s}
	}
	var out []string
	var cur strings.Builder
	cw := 0
	for _, r := range s {
		rw := runewidth.RuneWidth(r)
		if cw+rw > width && cw > 0 {
			out = append(out, cur.String())
			cur.Reset()
			cw = 0
		}
		cur.WriteRune(r)
		cw += rw
	}
	return append(out, cur.String())
}

// renderCSV prints a header line then one record per row; NULL is NULL.
func renderCSV(w io.Writer, r client.Result) {
	cw := csv.NewWriter(w)
	cw.Write(r.Columns)
	for _, row := range r.Values {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = formatValue(v, "NULL")
		}
		cw.Write(rec)
	}
	cw.Flush()
}

// renderLine prints "col = value" per column, names right-aligned, with a
// blank line between rows.
func renderLine(w io.Writer, r client.Result) {
	width := 0
	for _, c := range r.Columns {
		width = max(width, runewidth.StringWidth(c))
	}
	for i, row := range r.Values {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for j, c := range r.Columns {
			v := "NULL"
			if j < len(row) {
				v = formatValue(row[j], "NULL")
			}
			fmt.Fprintf(w, "%s = %s\n", runewidth.FillLeft(c, width), v)
		}
	}
}

// renderJSON prints the rows as an array of objects, 2-space indent.
func renderJSON(w io.Writer, r client.Result) {
	objs := make([]map[string]any, 0, len(r.Values))
	for _, row := range r.Values {
		o := make(map[string]any, len(r.Columns))
		for j, c := range r.Columns {
			if j < len(row) {
				o[c] = row[j]
			}
		}
		objs = append(objs, o)
	}
	b, err := json.MarshalIndent(objs, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "Error: %v\n", err)
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

// printTree prints a JSON document as sorted "key: value" lines, nested
// objects indented by two spaces, nulls skipped.
func printTree(w io.Writer, doc map[string]any, indent int) {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pad := strings.Repeat(" ", indent)
	for _, k := range keys {
		switch v := doc[k].(type) {
		case nil:
		case map[string]any:
			fmt.Fprintf(w, "%s%s:\n", pad, k)
			printTree(w, v, indent+2)
		case []any:
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(fmt.Sprint(v))
			}
			fmt.Fprintf(w, "%s%s: %s\n", pad, k, b)
		default:
			fmt.Fprintf(w, "%s%s: %s\n", pad, k, formatValue(v, ""))
		}
	}
}
