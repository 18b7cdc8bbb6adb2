# report.awk - the table and the JSON of the file-system benchmark.
#
#   awk -F '\t' -f report.awk -v json=OUT -v reps=N ... ROWS RAW NOTES
#
# ROWS: one line per table row: name, unit, higher_is_better (1/0), text.
# RAW:  one line per measurement: row name, target, rep, value.
# NOTES: free text lines, copied under the table and into the JSON.
#
# For each row and target: median, min and max of the values.  Ratios are
# xv6fs against ext4 and fuse2fs, turned round for lower-is-better rows so
# that >1 always means xv6fs is better.  The table goes to stdout, the
# JSON to the file named by -v json.  Plain POSIX awk (mawk on Debian), so
# no asort: the few values per cell are sorted by insertion.

FILENAME == ARGV[1] {
	nrows++
	row[nrows] = $1
	unit[$1] = $2
	hib[$1] = $3
	text[$1] = $4
	next
}

FILENAME == ARGV[2] {
	k = $1 SUBSEP $2
	n[k]++
	val[k, n[k]] = $4 + 0
	next
}

FILENAME == ARGV[3] {
	nnotes++
	notes[nnotes] = $0
	next
}

# Sort the values of cell @k in place (insertion sort).
function sort_cell(k,    i, j, v) {
	for (i = 2; i <= n[k]; i++) {
		v = val[k, i]
		for (j = i - 1; j >= 1 && val[k, j] > v; j--)
			val[k, j + 1] = val[k, j]
		val[k, j + 1] = v
	}
}

function median(k,    m) {
	m = n[k]
	if (m % 2)
		return val[k, (m + 1) / 2]
	return (val[k, m / 2] + val[k, m / 2 + 1]) / 2
}

# A number for a human: about three significant digits.
function fmt(v) {
	if (v >= 100)
		return sprintf("%.0f", v)
	if (v >= 10)
		return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}

function jnum(v) {
	return sprintf("%.6g", v)
}

function jstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	gsub(/\t/, " ", s)
	return "\"" s "\""
}

# Ratio of xv6fs to target @t on row @r, >1 meaning xv6fs is better;
# "" when either is missing.
function ratio(r, t,    a, b) {
	if (!n[r SUBSEP "xv6fs"] || !n[r SUBSEP t])
		return ""
	a = med[r, "xv6fs"]
	b = med[r, t]
	if (a <= 0 || b <= 0)
		return ""
	return hib[r] ? a / b : b / a
}

END {
	ntg = split("xv6fs ext4 fuse2fs", tg, " ")

	for (i = 1; i <= nrows; i++) {
		r = row[i]
		for (j = 1; j <= ntg; j++) {
			k = r SUBSEP tg[j]
			if (!n[k])
				continue
			sort_cell(k)
			med[r, tg[j]] = median(k)
		}
	}

	# The table.
	printf("File-system benchmark: median of %d rep(s), spread min-max in brackets.\n", reps)
	printf("Ratios are xv6fs against the other target, oriented so that >1 means xv6fs is better.\n\n")
	printf("%-10s %-6s", "workload", "unit")
	for (j = 1; j <= ntg; j++)
		printf(" %-23s", tg[j])
	printf(" %9s %12s\n", "xv6/ext4", "xv6/fuse2fs")
	for (i = 1; i <= nrows; i++) {
		r = row[i]
		printf("%-10s %-6s", r, unit[r])
		for (j = 1; j <= ntg; j++) {
			k = r SUBSEP tg[j]
			if (!n[k]) {
				cell = index(" " targets " ", " " tg[j] " ") ? "FAIL" : "-"
			} else if (n[k] == 1) {
				cell = fmt(med[r, tg[j]])
			} else {
				cell = fmt(med[r, tg[j]]) " (" fmt(val[k, 1]) "-" \
					fmt(val[k, n[k]]) ")"
			}
			printf(" %-23s", cell)
		}
		x = ratio(r, "ext4")
		y = ratio(r, "fuse2fs")
		printf(" %9s %12s\n", x == "" ? "-" : sprintf("%.2fx", x),
		       y == "" ? "-" : sprintf("%.2fx", y))
	}
	printf("\n")
	for (i = 1; i <= nrows; i++)
		printf("  %-10s %s%s\n", row[i], text[row[i]],
		       hib[row[i]] ? "" : " (lower is better)")
	for (i = 1; i <= nnotes; i++)
		printf("note: %s\n", notes[i])

	# The JSON.
	if (json == "")
		exit 0
	printf("{\n") > json
	printf("  \"benchmark\": \"bento-fs\",\n") > json
	printf("  \"meta\": {\n") > json
	printf("    \"date\": %s,\n", jstr(date)) > json
	printf("    \"kernel\": %s,\n", jstr(kernel)) > json
	printf("    \"cpus\": %d,\n", cpus) > json
	printf("    \"cpu_model\": %s,\n", jstr(cpu)) > json
	printf("    \"commit\": %s,\n", jstr(commit)) > json
	printf("    \"reps\": %d,\n", reps) > json
	printf("    \"quick\": %s,\n", quick == 1 ? "true" : "false") > json
	printf("    \"image_mib\": %d,\n", image_mib) > json
	printf("    \"targets\": %s,\n", jstr(targets)) > json
	printf("    \"statistic\": \"median of reps; spread is [min, max]; ratios >1 mean xv6fs is better\"\n") > json
	printf("  },\n") > json
	printf("  \"workloads\": [\n") > json
	for (i = 1; i <= nrows; i++) {
		r = row[i]
		printf("    {\n      \"name\": %s,\n", jstr(r)) > json
		printf("      \"description\": %s,\n", jstr(text[r])) > json
		printf("      \"unit\": %s,\n", jstr(unit[r])) > json
		printf("      \"higher_is_better\": %s,\n",
		       hib[r] ? "true" : "false") > json
		for (j = 1; j <= ntg; j++) {
			k = r SUBSEP tg[j]
			printf("      %s: %s,\n", jstr(tg[j]),
			       n[k] ? jnum(med[r, tg[j]]) : "null") > json
		}
		x = ratio(r, "ext4")
		y = ratio(r, "fuse2fs")
		printf("      \"xv6fs_vs_ext4\": %s,\n",
		       x == "" ? "null" : jnum(x)) > json
		printf("      \"xv6fs_vs_fuse2fs\": %s,\n",
		       y == "" ? "null" : jnum(y)) > json
		printf("      \"spread\": {") > json
		for (j = 1; j <= ntg; j++) {
			k = r SUBSEP tg[j]
			printf("%s%s: %s", j > 1 ? ", " : " ", jstr(tg[j]),
			       n[k] ? "[" jnum(val[k, 1]) ", " jnum(val[k, n[k]]) "]" : \
			       "null") > json
		}
		printf(" },\n") > json
		printf("      \"reps\": {") > json
		for (j = 1; j <= ntg; j++) {
			k = r SUBSEP tg[j]
			s = ""
			for (m = 1; m <= n[k]; m++)
				s = s (m > 1 ? ", " : "") jnum(val[k, m])
			printf("%s%s: [%s]", j > 1 ? ", " : " ", jstr(tg[j]), s) > json
		}
		printf(" }\n    }%s\n", i < nrows ? "," : "") > json
	}
	printf("  ],\n") > json
	printf("  \"notes\": [") > json
	for (i = 1; i <= nnotes; i++)
		printf("%s\n    %s", i > 1 ? "," : "", jstr(notes[i])) > json
	printf("%s]\n}\n", nnotes ? "\n  " : "") > json
	close(json)
}
