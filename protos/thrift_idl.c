/*
 * Thrift IDL files (the idl_files setting), read for what Packetbeat takes
 * from them: every service's methods with the names of their arguments and
 * exceptions by field id, so params read "(num1: 1, num2: 2)" and path names
 * the service. Includes are followed (relative to the including file, each
 * file once); namespaces, structs, unions, exceptions, enums, typedefs and
 * constants are parsed past. A method defined in two services keeps the
 * later one, as Packetbeat does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

#define IDL_FILES_MAX 64 /* files read through includes */
#define IDL_FILE_MAX (4u << 20)
#define IDL_TOKEN_MAX 256
#define IDL_NEST_MAX 64 /* brackets skipped in constants and annotations */

enum tok_kind {
	TK_EOF,
	TK_IDENT,
	TK_STRING,
	TK_NUMBER,
	TK_PUNCT,
};

struct lex {
	struct thrift_idl *idl;
	const char *s, *file;
	size_t n, pos;
	int line;
	enum tok_kind kind;
	char tok[IDL_TOKEN_MAX];
	char *err;
	size_t errlen;
	bool failed;
	unsigned depth; /* include nesting */
	char (*seen)[PATH_MAX]; /* files read, shared through includes */
};

static int fail(struct lex *l, const char *what)
{
	if (!l->failed)
		snprintf(l->err, l->errlen, "%s:%d: %s (at \"%s\")", l->file, l->line, what, l->tok);
	l->failed = true;
	return -EINVAL;
}

static void skip_space(struct lex *l)
{
	while (l->pos < l->n) {
		char c = l->s[l->pos];

		if (c == '\n')
			l->line++;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			l->pos++;
		} else if (c == '#' || (c == '/' && l->pos + 1 < l->n && l->s[l->pos + 1] == '/')) {
			while (l->pos < l->n && l->s[l->pos] != '\n')
				l->pos++;
		} else if (c == '/' && l->pos + 1 < l->n && l->s[l->pos + 1] == '*') {
			for (l->pos += 2; l->pos < l->n && !(l->s[l->pos - 1] == '*' && l->s[l->pos] == '/'); l->pos++)
				l->line += l->s[l->pos] == '\n';
			l->pos++;
		} else {
			return;
		}
	}
}

static bool ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && ((c >= '0' && c <= '9') || c == '.'));
}

static void take(struct lex *l, size_t from, size_t to)
{
	size_t k = to - from < IDL_TOKEN_MAX - 1 ? to - from : IDL_TOKEN_MAX - 1;

	memcpy(l->tok, l->s + from, k);
	l->tok[k] = '\0';
}

static void lex_string(struct lex *l)
{
	char q = l->s[l->pos];
	size_t start = ++l->pos;

	while (l->pos < l->n && l->s[l->pos] != q) {
		if (l->s[l->pos] == '\\')
			l->pos++;
		l->line += l->pos < l->n && l->s[l->pos] == '\n';
		l->pos++;
	}
	take(l, start, l->pos < l->n ? l->pos : l->n);
	l->kind = TK_STRING;
	if (l->pos >= l->n)
		fail(l, "unterminated string");
	l->pos++;
}

/* The next token into l->tok / l->kind. */
static void next(struct lex *l)
{
	size_t start;
	char c;

	skip_space(l);
	if (l->pos >= l->n) {
		l->kind = TK_EOF;
		l->tok[0] = '\0';
		return;
	}
	start = l->pos;
	c = l->s[l->pos];
	if (c == '"' || c == '\'') {
		lex_string(l);
	} else if (ident_char(c, true)) {
		while (l->pos < l->n && ident_char(l->s[l->pos], false))
			l->pos++;
		l->kind = TK_IDENT;
		take(l, start, l->pos);
	} else if ((c >= '0' && c <= '9') || ((c == '-' || c == '+') && l->pos + 1 < l->n && l->s[l->pos + 1] >= '0' &&
					      l->s[l->pos + 1] <= '9')) {
		for (l->pos++; l->pos < l->n && (ident_char(l->s[l->pos], false) ||
						 ((l->s[l->pos] == '-' || l->s[l->pos] == '+') &&
						  (l->s[l->pos - 1] == 'e' || l->s[l->pos - 1] == 'E')));
		     l->pos++)
			;
		l->kind = TK_NUMBER;
		take(l, start, l->pos);
	} else {
		l->pos++;
		l->kind = TK_PUNCT;
		take(l, start, l->pos);
	}
}

static bool is(const struct lex *l, const char *s)
{
	return l->kind != TK_STRING && l->kind != TK_EOF && strcmp(l->tok, s) == 0;
}

/* Consume s, or fail. */
static int expect(struct lex *l, const char *s)
{
	if (!is(l, s))
		return fail(l, s[0] == '{' || s[0] == '(' || s[0] == '<' ? "expected a bracket" : "unexpected token");
	next(l);
	return 0;
}

static int ident(struct lex *l, char *out, size_t cap)
{
	if (l->kind != TK_IDENT)
		return fail(l, "expected a name");
	snprintf(out, cap, "%s", l->tok);
	next(l);
	return 0;
}

/* Skip a bracketed group starting at the current token (one of ( [ { <). */
static int skip_group(struct lex *l)
{
	char stack[IDL_NEST_MAX];
	unsigned depth = 0;

	do {
		if (l->kind == TK_EOF || l->failed)
			return fail(l, "unterminated bracket");
		if (l->kind == TK_PUNCT && strchr("([{<", l->tok[0])) {
			if (depth == IDL_NEST_MAX)
				return fail(l, "brackets nested too deep");
			stack[depth++] = l->tok[0] == '(' ? ')' : l->tok[0] == '[' ? ']' : l->tok[0] == '{' ? '}' : '>';
		} else if (l->kind == TK_PUNCT && strchr(")]}>", l->tok[0])) {
			if (!depth || stack[depth - 1] != l->tok[0])
				return fail(l, "mismatched bracket");
			depth--;
		}
		next(l);
	} while (depth);
	return 0;
}

/* Annotations "( key = "value", ... )" after a type, field or definition. */
static int skip_annotations(struct lex *l)
{
	return is(l, "(") ? skip_group(l) : 0;
}

static int skip_type(struct lex *l)
{
	bool container = is(l, "list") || is(l, "set") || is(l, "map");

	if (l->kind != TK_IDENT)
		return fail(l, "expected a type");
	next(l);
	if (container && skip_group(l))
		return -EINVAL;
	if (is(l, "cpp_type")) {
		next(l);
		next(l);
	}
	return skip_annotations(l);
}

static int skip_const_value(struct lex *l)
{
	if (is(l, "{") || is(l, "["))
		return skip_group(l);
	if (l->kind == TK_EOF)
		return fail(l, "expected a value");
	next(l);
	return 0;
}

static void skip_separator(struct lex *l)
{
	if (is(l, ",") || is(l, ";"))
		next(l);
}

static int names_add(struct thrift_names *nm, int16_t id, const char *name)
{
	int16_t *ids = realloc(nm->ids, (nm->n + 1) * sizeof(*ids));
	char **names;

	if (!ids)
		return -ENOMEM;
	nm->ids = ids;
	names = realloc(nm->names, (nm->n + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	nm->names = names;
	names[nm->n] = strdup(name);
	if (!names[nm->n])
		return -ENOMEM;
	ids[nm->n++] = id;
	return 0;
}

static void names_free(struct thrift_names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->names[i]);
	free(nm->names);
	free(nm->ids);
	memset(nm, 0, sizeof(*nm));
}

/* One field of an argument or throws list: [id:] [required|optional] type name [= value] [annotations] [,;] */
static int field(struct lex *l, struct thrift_names *nm, int16_t *implicit)
{
	char name[IDL_TOKEN_MAX];
	long id = --*implicit; /* Thrift numbers fields without an id -1, -2, ... */

	if (l->kind == TK_NUMBER) {
		id = strtol(l->tok, NULL, 0);
		if (id < INT16_MIN || id > INT16_MAX)
			return fail(l, "field id out of range");
		next(l);
		if (expect(l, ":"))
			return -EINVAL;
	}
	if (is(l, "required") || is(l, "optional"))
		next(l);
	if (skip_type(l) || ident(l, name, sizeof(name)))
		return -EINVAL;
	if (is(l, "=")) {
		next(l);
		if (skip_const_value(l))
			return -EINVAL;
	}
	if (skip_annotations(l))
		return -EINVAL;
	skip_separator(l);
	return names_add(nm, (int16_t)id, name) ? fail(l, "out of memory") : 0;
}

static int field_list(struct lex *l, struct thrift_names *nm)
{
	int16_t implicit = 0;

	if (expect(l, "("))
		return -EINVAL;
	while (!is(l, ")"))
		if (l->kind == TK_EOF || field(l, nm, &implicit))
			return fail(l, "unterminated field list");
	next(l);
	return 0;
}

static void method_clear(struct thrift_method *m)
{
	free(m->name);
	free(m->service);
	names_free(&m->params);
	names_free(&m->exceptions);
}

/* Add m (taken), replacing a method of the same name. */
static int idl_add(struct thrift_idl *idl, struct thrift_method *m)
{
	for (size_t i = 0; i < idl->n; i++)
		if (strcmp(idl->methods[i].name, m->name) == 0) {
			method_clear(&idl->methods[i]);
			idl->methods[i] = *m;
			return 0;
		}
	if (idl->n == idl->cap) {
		size_t cap = idl->cap ? 2 * idl->cap : 16;
		struct thrift_method *v = realloc(idl->methods, cap * sizeof(*v));

		if (!v) {
			method_clear(m);
			return -ENOMEM;
		}
		idl->methods = v;
		idl->cap = cap;
	}
	idl->methods[idl->n++] = *m;
	return 0;
}

static int method(struct lex *l, const char *service)
{
	struct thrift_method m = { 0 };
	char name[IDL_TOKEN_MAX];

	if (is(l, "oneway") || is(l, "async")) {
		m.oneway = true;
		next(l);
	}
	if (skip_type(l) || ident(l, name, sizeof(name)) || field_list(l, &m.params))
		goto out_fail;
	if (is(l, "throws")) {
		next(l);
		if (field_list(l, &m.exceptions))
			goto out_fail;
	}
	if (skip_annotations(l))
		goto out_fail;
	skip_separator(l);
	m.name = strdup(name);
	m.service = strdup(service);
	if (!m.name || !m.service) {
		fail(l, "out of memory");
		goto out_fail;
	}
	return idl_add(l->idl, &m) ? fail(l, "out of memory") : 0;
out_fail:
	method_clear(&m);
	return -EINVAL;
}

static int service(struct lex *l)
{
	char name[IDL_TOKEN_MAX], base[IDL_TOKEN_MAX];

	if (ident(l, name, sizeof(name)))
		return -EINVAL;
	if (is(l, "extends")) {
		next(l);
		if (ident(l, base, sizeof(base)))
			return -EINVAL;
	}
	if (expect(l, "{"))
		return -EINVAL;
	while (!is(l, "}"))
		if (l->kind == TK_EOF || method(l, name))
			return fail(l, "unterminated service");
	next(l);
	return skip_annotations(l);
}

static int parse_file(struct lex *parent, const char *path);

static int include(struct lex *l)
{
	char path[PATH_MAX];
	const char *slash = strrchr(l->file, '/');

	if (l->kind != TK_STRING)
		return fail(l, "expected a file name");
	if (l->tok[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", l->tok);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - l->file), l->file, l->tok);
	next(l);
	return parse_file(l, path);
}

/* struct, union, exception, enum, senum: name, { ... }, annotations. */
static int skip_definition(struct lex *l)
{
	char name[IDL_TOKEN_MAX];

	if (ident(l, name, sizeof(name)))
		return -EINVAL;
	if (is(l, "xsd_all"))
		next(l);
	if (!is(l, "{"))
		return fail(l, "expected a bracket");
	if (skip_group(l))
		return -EINVAL;
	return skip_annotations(l);
}

static int definition(struct lex *l)
{
	char name[IDL_TOKEN_MAX];

	if (is(l, "include")) {
		next(l);
		return include(l);
	}
	if (is(l, "cpp_include")) {
		next(l);
		next(l);
		return 0;
	}
	if (is(l, "namespace")) { /* namespace <scope> <name> */
		next(l);
		next(l);
		next(l);
		return skip_annotations(l);
	}
	if (is(l, "service")) {
		next(l);
		return service(l);
	}
	if (is(l, "struct") || is(l, "union") || is(l, "exception") || is(l, "enum") || is(l, "senum")) {
		next(l);
		return skip_definition(l);
	}
	if (is(l, "typedef")) {
		next(l);
		return skip_type(l) || ident(l, name, sizeof(name)) || skip_annotations(l) ? -EINVAL : 0;
	}
	if (is(l, "const")) {
		next(l);
		if (skip_type(l) || ident(l, name, sizeof(name)) || expect(l, "="))
			return -EINVAL;
		return skip_const_value(l);
	}
	return fail(l, "unexpected token");
}

static int parse_text(struct lex *l)
{
	next(l);
	while (l->kind != TK_EOF && !l->failed) {
		if (is(l, ";") || is(l, ",")) {
			next(l);
			continue;
		}
		if (definition(l))
			return -EINVAL;
	}
	return l->failed ? -EINVAL : 0;
}

static struct lex lex_for(struct thrift_idl *idl, const char *text, size_t len, const char *file, char *err,
			  size_t errlen)
{
	struct lex l = { .idl = idl, .s = text, .n = len, .file = file, .line = 1, .err = err, .errlen = errlen };

	return l;
}

int thrift_idl_parse(struct thrift_idl *idl, const char *text, size_t len, const char *file, char *err, size_t errlen)
{
	struct lex l = lex_for(idl, text, len, file, err, errlen);
	int rc;

	l.seen = calloc(IDL_FILES_MAX, PATH_MAX);
	if (!l.seen) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = parse_text(&l);
	free(l.seen);
	return rc;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(IDL_FILE_MAX + 1);
	*len = buf ? fread(buf, 1, IDL_FILE_MAX + 1, f) : 0;
	if (buf && (*len > IDL_FILE_MAX || ferror(f))) {
		fclose(f);
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	fclose(f);
	return buf;
}

/* True when path was read already; else remembered. */
static bool seen_before(struct lex *parent, const char *path)
{
	char real[PATH_MAX];

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	for (size_t i = 0; i < parent->idl->nfiles; i++)
		if (strcmp(parent->seen[i], real) == 0)
			return true;
	if (parent->idl->nfiles < IDL_FILES_MAX)
		memcpy(parent->seen[parent->idl->nfiles], real, sizeof(real));
	parent->idl->nfiles++;
	return false;
}

static int parse_file(struct lex *parent, const char *path)
{
	struct lex l;
	size_t len = 0;
	char *text;
	int rc;

	if (seen_before(parent, path))
		return 0;
	if (parent->idl->nfiles > IDL_FILES_MAX || parent->depth >= 16)
		return fail(parent, "too many included files");
	text = read_all(path, &len);
	if (!text) {
		snprintf(parent->err, parent->errlen, "%s: %s", path, strerror(errno));
		parent->failed = true;
		return -EINVAL;
	}
	l = lex_for(parent->idl, text, len, path, parent->err, parent->errlen);
	l.depth = parent->depth + 1;
	l.seen = parent->seen;
	rc = parse_text(&l);
	free(text);
	parent->failed |= l.failed;
	return rc;
}

struct thrift_idl *thrift_idl_load(char *const *files, size_t n, char *err, size_t errlen)
{
	struct thrift_idl *idl = calloc(1, sizeof(*idl));
	char(*seen)[PATH_MAX] = calloc(IDL_FILES_MAX, PATH_MAX);
	struct lex top;

	if (!idl || !seen) {
		snprintf(err, errlen, "out of memory");
		goto out_fail;
	}
	top = lex_for(idl, "", 0, "idl_files", err, errlen);
	top.seen = seen;
	for (size_t i = 0; i < n; i++)
		if (parse_file(&top, files[i]))
			goto out_fail;
	free(seen);
	return idl;
out_fail:
	free(seen);
	thrift_idl_free(idl);
	return NULL;
}

const struct thrift_method *thrift_idl_find(const struct thrift_idl *idl, const char *name, size_t len)
{
	for (size_t i = 0; idl && i < idl->n; i++)
		if (strlen(idl->methods[i].name) == len && memcmp(idl->methods[i].name, name, len) == 0)
			return &idl->methods[i];
	return NULL;
}

const char *thrift_names_get(const struct thrift_names *nm, int16_t id)
{
	for (size_t i = 0; i < nm->n; i++)
		if (nm->ids[i] == id)
			return nm->names[i];
	return NULL;
}

void thrift_idl_free(struct thrift_idl *idl)
{
	if (!idl)
		return;
	for (size_t i = 0; i < idl->n; i++)
		method_clear(&idl->methods[i]);
	free(idl->methods);
	free(idl);
}
