/*
 * replay_out.c - `mxguard replay`'s report (see replay_out.h).
 *
 * The text report is in the order an operator reads it: what was read,
 * the table of actions and the moves, the changed decisions grouped by
 * the pair of rules, what could not be decided, then each rule of the
 * candidate. The JSON document has the same numbers under stable keys.
 */
#include <string.h>

#include "milter/replay_out.h"
#include "replay/examples.h"

#define ARROW "\xe2\x86\x92"   /* U+2192, as the moves are written: "reject → accept" */

/* other_side - what the candidate is compared with */
static const char *other_side(const struct replay_run *run)
{
	return run->baseline ? "baseline" : "log";
}

/* column_total - messages with label l on one side (old: 0, new: 1) */
static unsigned long column_total(const struct report *rp, int l, int side)
{
	unsigned long n = 0;

	for (int k = 0; k < RP_NLABELS; k++)
		n += side ? rp->table[k][l] : rp->table[l][k];
	return n;
}

/* fact_label - fact id's name under the candidate's lists (dnsbl.NAME) */
static const char *fact_label(const struct replay_run *run, enum fact_id id, char *buf, size_t len)
{
	/* facts_name reads only the list names of the facts it is given */
	static struct facts names;
	const char *n;

	names.list_name = run->list_name;
	n = facts_name(&names, id, buf, len);
	return n ? n : fact_table[id].name;
}

/* replay_warnings - see replay_out.h */
void replay_warnings(FILE *err, const struct replay_run *run)
{
	const struct report *rp = run->rp;

	for (int k = 0; k < RP_SKIP_KINDS; k++) {
		const struct replay_first *f = replay_first(run->engine, (enum rp_skip)k);

		if (!rp->skipped[k] || k == RP_SKIP_EMPTY)
			continue;
		fprintf(err, "mxguard replay: warning: %lu skipped: %s (first: %s:%lu", rp->skipped[k],
			rp_skip_name((enum rp_skip)k), f->file, f->line);
		if (f->column)
			fprintf(err, ", column %zu", f->column);
		fprintf(err, "%s%s)\n", f->why ? ": " : "", f->why ? f->why : "");
	}
	for (unsigned i = 0; i < rp->nkeys; i++)
		fprintf(err, "mxguard replay: warning: key \"%s\" (%lu lines) is not one this version knows: ignored\n",
			rp->key_name[i], rp->key_count[i]);
	if (rp->keys_more)
		fprintf(err, "mxguard replay: warning: %lu more unknown keys, ignored\n", rp->keys_more);
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char name[96];

		if (rp->bad_values[i])
			fprintf(err, "mxguard replay: warning: %lu lines have a value of %s this version cannot read: "
				"left unknown\n", rp->bad_values[i], fact_label(run, (enum fact_id)i, name, sizeof name));
	}
	if (rp->versions[2])
		fprintf(err, "mxguard replay: warning: %lu lines of a newer log format: read as far as this version "
			"knows it\n", rp->versions[2]);
	if (rp->no_txn)
		fprintf(err, "mxguard replay: warning: %lu lines without a txn (log_version 1): each is a message of "
			"its own, and a rule on rcpt cannot be replayed for it\n", rp->no_txn);
}

/* print_table - the actions on each side, and the moves between them */
static void print_table(FILE *out, const struct replay_run *run)
{
	const struct report *rp = run->rp;
	bool moves = false;

	fprintf(out, "\n  %-24s %10s %10s\n", "", other_side(run), "candidate");
	for (int l = 0; l < RP_NLABELS; l++) {
		unsigned long a = column_total(rp, l, 0), b = column_total(rp, l, 1);

		if (a || b)
			fprintf(out, "  %-24s %10lu %10lu\n", rp_label_name(l), a, b);
	}
	for (int a = 0; a < RP_NLABELS; a++)
		for (int b = 0; b < RP_NLABELS; b++) {
			if (a == b || !rp->table[a][b])
				continue;
			if (!moves)
				fprintf(out, "\n  moves:\n");
			moves = true;
			fprintf(out, "    %s " ARROW " %s: %lu\n", rp_label_name(a), rp_label_name(b), rp->table[a][b]);
		}
	if (!moves)
		fprintf(out, "\n  moves: none\n");
}

/* outcome - "rule action" of one side of a group */
static void outcome(FILE *out, const char *rule, int label)
{
	if (label == RP_UNDECIDED || label == RP_FAILED)
		fprintf(out, "%s", rp_label_name(label));
	else if (rule)
		fprintf(out, "%s %s", rule, rp_label_name(label));
	else
		fprintf(out, "%s", rp_label_name(label));
}

/* print_groups - the changed decisions, grouped by the pair of rules */
static void print_groups(FILE *out, const struct replay_run *run)
{
	const struct report *rp = run->rp;

	if (!rp->changed) {
		fprintf(out, "\nchanged decisions: none\n");
		return;
	}
	fprintf(out, "\nchanged decisions: %lu (by the pair of rules, at most %u line%s each)\n", rp->changed, run->limit,
		run->limit == 1 ? "" : "s");
	for (unsigned i = 0; i < rp->ngroups; i++) {
		const struct rp_group *g = &rp->group[i];

		fprintf(out, "  ");
		outcome(out, g->old_rule, g->old_label);
		fprintf(out, " " ARROW " ");
		outcome(out, g->new_rule, g->new_label);
		fprintf(out, ": %lu\n", g->count);
		for (unsigned k = 0; k < g->nex; k++) {
			const struct rp_example *ex = &g->ex[k];

			fprintf(out, "    %s %s sender=%s client=%s%s%s: ", ex->time[0] ? ex->time : "-",
				ex->queue_id[0] ? ex->queue_id : "-", ex->sender[0] ? ex->sender : "-",
				ex->client[0] ? ex->client : "-", ex->facts[0] ? " " : "", ex->facts);
			outcome(out, g->old_rule, g->old_label);
			fprintf(out, " " ARROW " ");
			outcome(out, g->new_rule, g->new_label);
			fprintf(out, "%s%s%s  [%s:%lu]\n", ex->reply[0] ? " \"" : "", ex->reply, ex->reply[0] ? "\"" : "",
				ex->file, ex->line);
		}
		if (g->count > g->nex)
			fprintf(out, "    ... and %lu more\n", g->count - g->nex);
	}
}

/* print_undecided - what the log lacks for the candidate */
static void print_undecided(FILE *out, const struct replay_run *run)
{
	const struct report *rp = run->rp;
	char name[96];

	if (!rp->undecided)
		return;
	fprintf(out, "\nundecided: %lu messages need facts the log does not have (the logging configuration never "
		"needed them; nothing is guessed):", rp->undecided);
	for (unsigned i = 0; i < FACT_COUNT; i++)
		if (rp->needs[i])
			fprintf(out, " %s %lu", fact_label(run, (enum fact_id)i, name, sizeof name), rp->needs[i]);
	fprintf(out, "\n");
}

/* shadowers - "a (3), b (1)": who decided the messages a rule was true for */
static void shadowers(FILE *out, const struct report *rp, const struct rp_rule *r)
{
	const char *sep = "";

	for (unsigned j = 0; j < rp->nrules; j++)
		if (r->shadowed[j]) {
			fprintf(out, "%s%s (%lu)", sep, rp->rule[j].info.name, r->shadowed[j]);
			sep = ", ";
		}
}

/* print_rules - each rule of the candidate: decisions, matches, dead or shadowed */
static void print_rules(FILE *out, const struct report *rp)
{
	fprintf(out, "\nrules of the candidate (decides: messages it writes a decision line for; true: messages it "
		"is true for, where it decides or where the rules were last asked):\n");
	fprintf(out, "  %-20s %5s  %-20s %8s %8s\n", "rule", "line", "action", "decides", "true");
	for (unsigned i = 0; i < rp->nrules; i++) {
		const struct rp_rule *r = &rp->rule[i];
		unsigned long shadowed = 0;
		char action[32], line[16];

		for (unsigned j = 0; j < rp->nrules; j++)
			shadowed += r->shadowed[j];
		snprintf(action, sizeof action, "%s%s", action_name(r->info.action), r->info.dry_run ? " (dry run)" : "");
		snprintf(line, sizeof line, "%d", r->info.line);
		fprintf(out, "  %-20s %5s  %-20s %8lu %8lu", r->info.name, r->info.line ? line : "-", action, r->decides,
			r->matched);
		if (i + 1 == rp->nrules) {
			/* the default: what no rule took */
		} else if (!r->matched && !r->unknown) {
			fprintf(out, "  dead: true for no message");
		} else if (!r->matched) {
			fprintf(out, "  never true here; cannot tell for %lu (the log lacks what it tests)", r->unknown);
		} else if (!r->decides && shadowed) {
			fprintf(out, "  shadowed: true for %lu, decided earlier by ", r->matched);
			shadowers(out, rp, r);
		} else if (shadowed) {
			fprintf(out, "  partly shadowed: %lu decided earlier by ", shadowed);
			shadowers(out, rp, r);
		}
		fprintf(out, "\n");
	}
}

/* replay_print_text - see replay_out.h */
void replay_print_text(FILE *out, const struct replay_run *run)
{
	const struct report *rp = run->rp;
	unsigned long skipped = 0;

	for (int k = 0; k < RP_SKIP_KINDS; k++)
		skipped += rp->skipped[k];
	fprintf(out, "mxguard replay: candidate %s against the %s (%d input%s, %lu lines)\n", run->candidate,
		other_side(run), run->nfiles, run->nfiles == 1 ? "" : "s", rp->lines);
	if (run->baseline)
		fprintf(out, "  baseline: %s\n", run->baseline);
	fprintf(out, "  %lu decision lines, %lu other lines skipped%s\n", rp->decision_lines, skipped,
		skipped > rp->skipped[RP_SKIP_EMPTY] ? " (see the warnings)" : "");
	fprintf(out, "  %lu messages", rp->messages);
	if (rp->errors)
		fprintf(out, " (%lu ended in an internal error in the log: not compared)", rp->errors);
	fprintf(out, "\n  the log's lines as the %s writes them: %lu of %lu the same", run->baseline ? "baseline" : "candidate",
		rp->lines_same, rp->lines_compared);
	if (rp->lines_reply_differs)
		fprintf(out, " (%lu differ only in the reply)", rp->lines_reply_differs);
	fprintf(out, "\n");
	if (rp->stage_only)
		fprintf(out, "  %lu messages decided alike, at another stage\n", rp->stage_only);
	if (rp->flushed)
		fprintf(out, "  %lu messages closed after an hour of log without a line of theirs\n", rp->flushed);
	print_table(out, run);
	print_groups(out, run);
	print_undecided(out, run);
	print_rules(out, rp);
	if (run->read_errors)
		fprintf(out, "\n%lu input%s ended in a read error: the report covers what was read\n", run->read_errors,
			run->read_errors == 1 ? "" : "s");
}

/* jstr - a JSON string (NULL: null) */
static void jstr(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* jlabels - {"label": count, ...} of one side */
static void jlabels(FILE *out, const struct report *rp, int side)
{
	const char *sep = "";

	fputc('{', out);
	for (int l = 0; l < RP_NLABELS; l++) {
		unsigned long n = column_total(rp, l, side);

		if (!n)
			continue;
		fputs(sep, out);
		jstr(out, rp_label_name(l));
		fprintf(out, ":%lu", n);
		sep = ",";
	}
	fputc('}', out);
}

/* jgroups - the changed decisions */
static void jgroups(FILE *out, const struct report *rp)
{
	fputs("\"changes\":[", out);
	for (unsigned i = 0; i < rp->ngroups; i++) {
		const struct rp_group *g = &rp->group[i];

		fprintf(out, "%s{\"old_rule\":", i ? "," : "");
		jstr(out, g->old_rule);
		fputs(",\"old_action\":", out);
		jstr(out, rp_label_name(g->old_label));
		fputs(",\"new_rule\":", out);
		jstr(out, g->new_rule);
		fputs(",\"new_action\":", out);
		jstr(out, rp_label_name(g->new_label));
		fprintf(out, ",\"count\":%lu,\"examples\":[", g->count);
		for (unsigned k = 0; k < g->nex; k++) {
			const struct rp_example *ex = &g->ex[k];

			fprintf(out, "%s{\"file\":", k ? "," : "");
			jstr(out, ex->file);
			fprintf(out, ",\"line\":%lu,\"time\":", ex->line);
			jstr(out, ex->time);
			fputs(",\"queue_id\":", out);
			jstr(out, ex->queue_id);
			fputs(",\"sender\":", out);
			jstr(out, ex->sender);
			fputs(",\"client_ip\":", out);
			jstr(out, ex->client);
			fputs(",\"facts\":", out);
			jstr(out, ex->facts);
			fputs(",\"reply\":", out);
			jstr(out, ex->reply);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputc(']', out);
}

/* jrules - each rule of the candidate */
static void jrules(FILE *out, const struct report *rp)
{
	fputs("\"rules\":[", out);
	for (unsigned i = 0; i < rp->nrules; i++) {
		const struct rp_rule *r = &rp->rule[i];
		const char *sep = "";
		unsigned long shadowed = 0;

		for (unsigned j = 0; j < rp->nrules; j++)
			shadowed += r->shadowed[j];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		jstr(out, r->info.name);
		fprintf(out, ",\"line\":%d,\"action\":", r->info.line);
		jstr(out, action_name(r->info.action));
		fprintf(out, ",\"dry_run\":%s,\"decides\":%lu,\"matched\":%lu,\"unknown\":%lu,\"dead\":%s,"
			"\"shadowed\":%s,\"shadowed_by\":{", r->info.dry_run ? "true" : "false", r->decides, r->matched,
			r->unknown, i + 1 < rp->nrules && !r->matched && !r->unknown ? "true" : "false",
			r->matched && !r->decides && shadowed ? "true" : "false");
		for (unsigned j = 0; j < rp->nrules; j++)
			if (r->shadowed[j]) {
				fputs(sep, out);
				jstr(out, rp->rule[j].info.name);
				fprintf(out, ":%lu", r->shadowed[j]);
				sep = ",";
			}
		fputs("}}", out);
	}
	fputc(']', out);
}

/* replay_print_json - see replay_out.h */
void replay_print_json(FILE *out, const struct replay_run *run)
{
	const struct report *rp = run->rp;
	const char *sep = "";

	fputs("{\"candidate\":", out);
	jstr(out, run->candidate);
	fputs(",\"baseline\":", out);
	jstr(out, run->baseline);
	fputs(",\"inputs\":[", out);
	for (int i = 0; i < run->nfiles; i++) {
		fputs(i ? "," : "", out);
		jstr(out, run->files[i]);
	}
	fprintf(out, "],\"lines\":%lu,\"decision_lines\":%lu,\"skipped\":{", rp->lines, rp->decision_lines);
	for (int k = 0; k < RP_SKIP_KINDS; k++) {
		static const char *const key[RP_SKIP_KINDS] = {
			"empty", "text_format", "not_json", "broken_json", "invalid_utf8", "over_limits", "too_long",
			"not_decision", "bad_value",
		};
		fprintf(out, "%s\"%s\":%lu", k ? "," : "", key[k], rp->skipped[k]);
	}
	fputs("},\"unknown_keys\":{", out);
	for (unsigned i = 0; i < rp->nkeys; i++) {
		fputs(i ? "," : "", out);
		jstr(out, rp->key_name[i]);
		fprintf(out, ":%lu", rp->key_count[i]);
	}
	fprintf(out, "},\"log_versions\":{\"1\":%lu,\"2\":%lu,\"newer\":%lu},\"read_errors\":%lu,", rp->versions[0],
		rp->versions[1], rp->versions[2], run->read_errors);
	fprintf(out, "\"messages\":%lu,\"compared\":%lu,\"errors\":%lu,\"changed\":%lu,\"stage_only\":%lu,"
		"\"flushed\":%lu,\"lines_compared\":%lu,\"lines_same\":%lu,\"lines_reply_differs\":%lu,",
		rp->messages, rp->compared, rp->errors, rp->changed, rp->stage_only, rp->flushed, rp->lines_compared,
		rp->lines_same, rp->lines_reply_differs);
	fprintf(out, "\"actions\":{\"%s\":", other_side(run));
	jlabels(out, rp, 0);
	fputs(",\"candidate\":", out);
	jlabels(out, rp, 1);
	fputs("},\"moves\":[", out);
	for (int a = 0; a < RP_NLABELS; a++)
		for (int b = 0; b < RP_NLABELS; b++) {
			if (a == b || !rp->table[a][b])
				continue;
			fprintf(out, "%s{\"from\":", sep);
			jstr(out, rp_label_name(a));
			fputs(",\"to\":", out);
			jstr(out, rp_label_name(b));
			fprintf(out, ",\"count\":%lu}", rp->table[a][b]);
			sep = ",";
		}
	fputs("],", out);
	jgroups(out, rp);
	fprintf(out, ",\"undecided\":{\"messages\":%lu,\"needs\":{", rp->undecided);
	sep = "";
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char name[96];

		if (!rp->needs[i])
			continue;
		fputs(sep, out);
		jstr(out, fact_label(run, (enum fact_id)i, name, sizeof name));
		fprintf(out, ":%lu", rp->needs[i]);
		sep = ",";
	}
	fputs("}},", out);
	jrules(out, rp);
	fprintf(out, ",\"exit\":%d}\n", run->status);
}
