/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DWARF layer.  A real QEMU binary carries hundreds of MB of DWARF, so
 * the order of search matters:
 *
 *  1. A hint function names the CU: symbol table -> address ->
 *     dwfl_module_addrdie().  Only that CU's top-level DIEs are read (once;
 *     the CU gets a small name index of its own).
 *  2. A static variable's LOCAL symbol sits after the STT_FILE symbol of its
 *     source file; a static function of the same group leads to the CU the
 *     same way (data addresses are not in .debug_aranges).
 *  3. Otherwise every CU of a module is read once, lazily, into a name index
 *     of its top-level types, variables, enumerators and functions.
 *
 * Results are cached per (name, hint) and per (type DIE, member path).
 */
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>

#include "dwarf-lookup.h"
#include "dwarf-lookup-internal.h"
#include "name-filter.h"
#include "target/target.h"

/* ---- a string-keyed multimap ------------------------------------------- */

enum entry_flag {
	ENTRY_DECL = 1 << 0,    /* a declaration, or a variable without location */
	ENTRY_SIGNED = 1 << 1,  /* enumerator of an enum with a signed base type */
};

struct hent {
	const char *key;
	int tag;
	unsigned flags;
	union {
		Dwarf_Die die;
		size_t sym;
		void *ptr;
	} v;
};

/* Entries by the hash of their key in util's map, found in insertion order. */
struct htab {
	struct ac_hash_map map;          /* hash of key -> struct hent * */
	bool own_keys;
	void (*free_ptr)(void *);
};

static void htab_init(struct htab *h, bool own_keys, void (*free_ptr)(void *))
{
	*h = (struct htab){ .own_keys = own_keys, .free_ptr = free_ptr };
}

static void htab_deinit(struct htab *h)
{
	for (size_t i = 0; i < h->map.n; i++) {
		struct hent *e = (struct hent *)(uintptr_t)h->map.entries[i].value;
		if (h->own_keys)
			free((char *)e->key);
		if (h->free_ptr)
			h->free_ptr(e->v.ptr);
		free(e);
	}
	ac_hash_map_deinit(&h->map);
}

/* The cursor's next entry whose key is key (hash collisions skipped). */
static struct hent *htab_walk(const struct htab *h, struct ac_hash_cursor *c, const char *key)
{
	uint64_t value;
	while (ac_hash_map_next(&h->map, c, &value)) {
		struct hent *e = (struct hent *)(uintptr_t)value;
		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

static struct hent *htab_first(const struct htab *h, const char *key)
{
	struct ac_hash_cursor c = ac_hash_map_find(&h->map, ac_hash_string(key));
	return htab_walk(h, &c, key);
}

/* Every entry of key, oldest first; `break` leaves both loops. */
#define htab_for_each(h, key, e)                                                    \
	for (struct ac_hash_cursor e##_cursor = ac_hash_map_find(&(h)->map,           \
								  ac_hash_string(key)), \
				   *e##_once = &e##_cursor;                             \
	     e##_once; e##_once = NULL)                                                 \
		for (struct hent *e = htab_walk((h), &e##_cursor, (key)); e;            \
		     e = htab_walk((h), &e##_cursor, (key)))

/* Appends an entry (duplicates allowed, found in insertion order). */
static struct hent *htab_add(struct htab *h, const char *key)
{
	struct hent *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (h->own_keys) {
		e->key = strdup(key);
		if (!e->key) {
			free(e);
			return NULL;
		}
	} else {
		e->key = key;
	}
	if (!ac_hash_map_add(&h->map, ac_hash_string(key), (uint64_t)(uintptr_t)e)) {
		if (h->own_keys)
			free((char *)e->key);
		free(e);
		return NULL;
	}
	return e;
}

/* ---- indexes ----------------------------------------------------------- */

/*
 * Top-level names of a set of CUs.  Keys point into the DWARF string data,
 * which lives as long as the Dwfl.  Types keep the first complete
 * definition per (name, tag), variables every definition (same-named
 * statics of different CUs), enumerators and functions the first one.
 */
struct name_index {
	struct htab types;
	struct htab vars;
	struct htab enums;
	struct htab funcs;
};

struct module {
	Dwfl_Module *mod;
	bool dwarf_tried;
	Dwarf *dbg;
	Dwarf_Addr bias;
	bool syms_indexed;
	bool full_symtab;       /* has local symbols: .symtab, not .dynsym alone */
	const struct ac_symbol_names *syms;
	struct ac_symbol_names *own_syms; /* built here: no target to ask */
	bool full_indexed;
	struct name_index full;
	bool filter_tried;
	struct ac_name_filter *filter; /* NULL: any name may be there */
	struct htab cus;        /* "%p" of the CU DIE -> struct name_index * */
};

struct ac_dwarf {
	Dwfl *dwfl;
	struct ac_target *target; /* NULL: offline, symbols read here */
	struct module *modules; /* the main module first */
	size_t nmodules;
	struct htab var_cache;
	struct htab type_cache;
	struct htab member_cache;
	struct htab enum_cache;
	struct htab hint_cache;
	struct name_index none; /* of a module that cannot hold the name */
	struct scalar_slot *scalars; /* ac_dwarf_scalar_size's answers */
	size_t scalars_size, scalars_used;
	unsigned long cus_scanned;
	unsigned long full_scans;
};

static void name_index_init(struct name_index *ni)
{
	htab_init(&ni->types, false, NULL);
	htab_init(&ni->vars, false, NULL);
	htab_init(&ni->enums, false, NULL);
	htab_init(&ni->funcs, false, NULL);
}

static void name_index_deinit(struct name_index *ni)
{
	htab_deinit(&ni->types);
	htab_deinit(&ni->vars);
	htab_deinit(&ni->enums);
	htab_deinit(&ni->funcs);
}

static void name_index_free(void *p)
{
	if (p) {
		name_index_deinit(p);
		free(p);
	}
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	if (!dwarf_attr_integrate(die, DW_AT_name, &attr))
		return NULL;
	return dwarf_formstring(&attr);
}

static bool die_flag(Dwarf_Die *die, unsigned name)
{
	Dwarf_Attribute attr;
	bool flag = false;
	if (!dwarf_attr(die, name, &attr))
		return false;
	return dwarf_formflag(&attr, &flag) == 0 && flag;
}

static bool die_type(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute attr;
	if (!dwarf_attr_integrate(die, DW_AT_type, &attr))
		return false;
	return dwarf_formref_die(&attr, ret) != NULL;
}

static bool is_type_tag(int tag)
{
	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
	case DW_TAG_typedef:
	case DW_TAG_base_type:
	case DW_TAG_class_type:
		return true;
	default:
		return false;
	}
}

static bool strip_die(Dwarf_Die *die)
{
	for (int depth = 0; depth < 64; depth++) {
		switch (dwarf_tag(die)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type: {
			Dwarf_Die next;
			if (!die_type(die, &next))
				return true; /* const void */
			*die = next;
			break;
		}
		default:
			return true;
		}
	}
	return false;
}

static bool enum_is_signed(Dwarf_Die *enum_die)
{
	Dwarf_Die base;
	Dwarf_Attribute attr;
	Dwarf_Word enc;
	if (!die_type(enum_die, &base) || !strip_die(&base))
		return false;
	if (!dwarf_attr(&base, DW_AT_encoding, &attr) ||
	    dwarf_formudata(&attr, &enc) != 0)
		return false;
	return enc == DW_ATE_signed || enc == DW_ATE_signed_char;
}

static int add_type(struct name_index *ni, const char *name, Dwarf_Die *die,
		    int tag, bool decl)
{
	htab_for_each(&ni->types, name, e) {
		if (e->tag != tag)
			continue;
		if ((e->flags & ENTRY_DECL) && !decl) {
			e->v.die = *die;
			e->flags = 0;
		}
		return 0;
	}
	struct hent *e = htab_add(&ni->types, name);
	if (!e)
		return -1;
	e->tag = tag;
	e->flags = decl ? ENTRY_DECL : 0;
	e->v.die = *die;
	return 0;
}

static int add_var(struct name_index *ni, const char *name, Dwarf_Die *die)
{
	bool decl = !dwarf_hasattr(die, DW_AT_location);
	htab_for_each(&ni->vars, name, e) {
		if (!(e->flags & ENTRY_DECL))
			continue;
		if (decl)
			return 0; /* one declaration is enough */
		e->v.die = *die;
		e->flags = 0;
		return 0;
	}
	struct hent *e = htab_add(&ni->vars, name);
	if (!e)
		return -1;
	e->tag = DW_TAG_variable;
	e->flags = decl ? ENTRY_DECL : 0;
	e->v.die = *die;
	return 0;
}

static int add_first(struct htab *h, const char *name, Dwarf_Die *die,
		     int tag, unsigned flags)
{
	if (htab_first(h, name))
		return 0;
	struct hent *e = htab_add(h, name);
	if (!e)
		return -1;
	e->tag = tag;
	e->flags = flags;
	e->v.die = *die;
	return 0;
}

static int index_enumerators(struct name_index *ni, Dwarf_Die *enum_die)
{
	Dwarf_Die child;
	unsigned flags = enum_is_signed(enum_die) ? ENTRY_SIGNED : 0;
	if (dwarf_child(enum_die, &child) != 0)
		return 0;
	do {
		if (dwarf_tag(&child) != DW_TAG_enumerator)
			continue;
		const char *name = dwarf_diename(&child);
		if (name && add_first(&ni->enums, name, &child,
				      DW_TAG_enumerator, flags) < 0)
			return -1;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/* Reads the top-level DIEs of one unit (and the partial units it imports). */
static int index_unit(struct name_index *ni, Dwarf_Die *unit, int depth)
{
	Dwarf_Die child;
	if (depth > 8 || dwarf_child(unit, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child);
		const char *name;
		int r = 0;
		if (tag == DW_TAG_imported_unit) {
			Dwarf_Attribute attr;
			Dwarf_Die imported;
			if (dwarf_attr(&child, DW_AT_import, &attr) &&
			    dwarf_formref_die(&attr, &imported))
				r = index_unit(ni, &imported, depth + 1);
		} else if (is_type_tag(tag)) {
			if (tag == DW_TAG_enumeration_type)
				r = index_enumerators(ni, &child);
			name = dwarf_diename(&child);
			if (r == 0 && name)
				r = add_type(ni, name, &child, tag,
					     die_flag(&child, DW_AT_declaration));
		} else if (tag == DW_TAG_variable) {
			name = die_name(&child);
			if (name)
				r = add_var(ni, name, &child);
		} else if (tag == DW_TAG_subprogram) {
			name = dwarf_diename(&child);
			if (name && !die_flag(&child, DW_AT_declaration))
				r = add_first(&ni->funcs, name, &child, tag, 0);
		}
		if (r < 0)
			return -1;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static struct ac_error *no_memory(void)
{
	return &ac_error_no_memory;
}

static struct ac_error *module_dwarf(struct module *m)
{
	if (!m->dwarf_tried) {
		m->dwarf_tried = true;
		m->dbg = dwfl_module_getdwarf(m->mod, &m->bias);
	}
	if (!m->dbg)
		return ac_error_create(AC_ERR_NO_DEBUGINFO, "%s: no DWARF: %s",
				       dwfl_module_info(m->mod, NULL, NULL, NULL,
							NULL, NULL, NULL, NULL),
				       dwfl_errmsg(-1));
	return NULL;
}

/* The whole-module index, built on first use. */
static struct name_index *module_full_index(struct ac_dwarf *dw,
					    struct module *m,
					    struct ac_error **err)
{
	*err = NULL;
	if (m->full_indexed)
		return &m->full;
	struct ac_error *e = module_dwarf(m);
	if (e) {
		/* A module without DWARF simply has no names. */
		ac_error_destroy(e);
		m->full_indexed = true;
		return &m->full;
	}
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, subdie;
	uint8_t unit_type;
	while (dwarf_get_units(m->dbg, cu, &cu, NULL, &unit_type, &cudie,
			       &subdie) == 0) {
		Dwarf_Die *unit = unit_type == DW_UT_skeleton ? &subdie : &cudie;
		dw->cus_scanned++;
		if (index_unit(&m->full, unit, 0) < 0) {
			*err = no_memory();
			return NULL;
		}
	}
	m->full_indexed = true;
	dw->full_scans++;
	return &m->full;
}

/*
 * The whole-module index for a lookup of name: the empty index where the
 * module provably has no such name, which spares indexing every CU.
 */
static struct name_index *module_index_for(struct ac_dwarf *dw, struct module *m,
					   const char *name, struct ac_error **err)
{
	if (!m->full_indexed && !m->filter_tried) {
		m->filter_tried = true;
		struct ac_error *e = module_dwarf(m);
		if (e)
			ac_error_destroy(e);
		else
			m->filter = ac_name_filter_create(m->dbg);
	}
	if (!m->full_indexed && !ac_name_filter_may_hold(m->filter, name)) {
		*err = NULL;
		return &dw->none;
	}
	return module_full_index(dw, m, err);
}

/* The index of one CU, built on first use. */
static struct name_index *cu_index(struct ac_dwarf *dw, struct module *m,
				   Dwarf_Die *cudie, struct ac_error **err)
{
	char key[32];
	*err = NULL;
	snprintf(key, sizeof(key), "%p", (void *)cudie->addr);
	struct hent *e = htab_first(&m->cus, key);
	if (e)
		return e->v.ptr;
	struct name_index *ni = calloc(1, sizeof(*ni));
	if (!ni) {
		*err = no_memory();
		return NULL;
	}
	name_index_init(ni);
	ac_error_destroy(module_dwarf(m)); /* for m->bias */
	dw->cus_scanned++;
	if (index_unit(ni, cudie, 0) < 0 || !(e = htab_add(&m->cus, key))) {
		name_index_free(ni);
		*err = no_memory();
		return NULL;
	}
	e->v.ptr = ni;
	return ni;
}

/* ---- symbols ----------------------------------------------------------- */

static struct ac_error *module_syms(struct ac_dwarf *dw, struct module *m)
{
	if (m->syms_indexed)
		return NULL;
	if (dw->target)
		m->syms = ac_target_symbol_names(dw->target, m->mod);
	else
		m->syms = m->own_syms = ac_symbol_names_build(m->mod);
	if (!m->syms)
		return no_memory();
	m->full_symtab = ac_symbol_names_has_locals(m->syms);
	m->syms_indexed = true;
	return NULL;
}

struct sym_hit {
	size_t index;
	uint64_t address;
	bool local;
	bool tls;
};

/* A function (want_func) or data symbol; GLOBAL/WEAK beat LOCAL. */
static bool sym_find(struct module *m, const char *name, bool want_func,
		     struct sym_hit *ret)
{
	bool found = false;
	struct ac_symbol_iter it;
	GElf_Sym sym;
	GElf_Addr addr;
	int index;
	ac_symbol_iter_init(&it, m->syms, name);
	while ((index = ac_symbol_iter_next(&it, &sym, &addr))) {
		int type = GELF_ST_TYPE(sym.st_info);
		bool func = type == STT_FUNC || type == STT_GNU_IFUNC;
		if (func != want_func)
			continue;
		bool local = GELF_ST_BIND(sym.st_info) == STB_LOCAL;
		if (found && (local || !ret->local))
			continue;
		ret->index = (size_t)index;
		ret->address = addr;
		ret->local = local;
		ret->tls = type == STT_TLS;
		found = true;
		if (!local)
			break;
	}
	return found;
}

/*
 * The CU of a LOCAL symbol: locals follow the STT_FILE symbol of their
 * source file, so a static function of the same group leads to the CU.
 */
static bool cu_of_local_sym(struct module *m, size_t index, Dwarf_Die *ret)
{
	GElf_Sym sym;
	GElf_Addr addr;
	size_t i = index;
	for (;;) {
		if (i == 0)
			return false;
		i--;
		if (!dwfl_module_getsym_info(m->mod, (int)i, &sym, &addr, NULL,
					     NULL, NULL))
			return false;
		if (GELF_ST_BIND(sym.st_info) != STB_LOCAL)
			return false;
		if (GELF_ST_TYPE(sym.st_info) == STT_FILE)
			break;
	}
	int n = dwfl_module_getsymtab(m->mod);
	for (i = i + 1; (int)i < n; i++) {
		if (!dwfl_module_getsym_info(m->mod, (int)i, &sym, &addr, NULL,
					     NULL, NULL))
			return false;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_FILE || GELF_ST_BIND(sym.st_info) != STB_LOCAL)
			return false;
		if (type != STT_FUNC || sym.st_shndx == SHN_UNDEF)
			continue;
		Dwarf_Addr bias;
		Dwarf_Die *cu = dwfl_module_addrdie(m->mod, addr, &bias);
		if (cu) {
			*ret = *cu;
			return true;
		}
	}
	return false;
}

/* ---- hint functions ---------------------------------------------------- */

struct hint_cu {
	struct module *module;  /* NULL: the hint function is unknown */
	Dwarf_Die cu;
};

static void free_plain(void *p)
{
	free(p);
}

static struct ac_error *hint_cu(struct ac_dwarf *dw, const char *function,
				const struct hint_cu **ret)
{
	struct hent *e = htab_first(&dw->hint_cache, function);
	if (e) {
		*ret = e->v.ptr;
		return NULL;
	}
	struct hint_cu *h = calloc(1, sizeof(*h));
	if (!h)
		return no_memory();
	struct ac_error *err = NULL;
	for (size_t i = 0; i < dw->nmodules && !h->module && !err; i++) {
		struct module *m = &dw->modules[i];
		struct sym_hit hit;
		if ((err = module_syms(dw, m)))
			break;
		if (!sym_find(m, function, true, &hit))
			continue;
		Dwarf_Addr bias;
		Dwarf_Die *cu = dwfl_module_addrdie(m->mod, hit.address, &bias);
		if (cu) {
			h->module = m;
			h->cu = *cu;
		}
	}
	/*
	 * No symbol table (.dynsym alone): ask the DWARF.  With a full .symtab
	 * the function is absent from this build (a hint for another QEMU
	 * generation) or inlined everywhere; the hint is then unknown, which
	 * costs no correctness, where indexing every CU of a QEMU system
	 * emulator costs more than the whole diagnosis.
	 */
	for (size_t i = 0; i < dw->nmodules && !h->module && !err; i++) {
		struct module *m = &dw->modules[i];
		if (m->full_symtab)
			continue;
		struct name_index *ni = module_index_for(dw, m, function, &err);
		struct hent *f = ni ? htab_first(&ni->funcs, function) : NULL;
		if (f && dwarf_diecu(&f->v.die, &h->cu, NULL, NULL))
			h->module = m;
	}
	if (err || !(e = htab_add(&dw->hint_cache, function))) {
		free(h);
		return err ? err : no_memory();
	}
	e->v.ptr = h;
	*ret = h;
	return NULL;
}

/* The index of the hint function's CU, or NULL if there is no such CU. */
static struct ac_error *hint_index(struct ac_dwarf *dw, const char *function,
				   struct module **mod, struct name_index **ret)
{
	const struct hint_cu *h;
	struct ac_error *err;
	Dwarf_Die cu;
	*ret = NULL;
	if (!function)
		return NULL;
	if ((err = hint_cu(dw, function, &h)))
		return err;
	if (!h->module)
		return NULL;
	cu = h->cu;
	*mod = h->module;
	*ret = cu_index(dw, h->module, &cu, &err);
	return err;
}

/* ---- variables --------------------------------------------------------- */

/* false if the location is not a plain (or thread-local) address. */
static bool var_address(struct module *m, Dwarf_Die *die, uint64_t *ret,
			bool *tls)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t n;
	Dwarf_Addr addr;
	if (!dwarf_attr(die, DW_AT_location, &attr) ||
	    dwarf_getlocation(&attr, &ops, &n) != 0 || n < 1 || n > 2)
		return false;
	if (n == 2) {
		/* DW_OP_const*u <offset>; DW_OP_form_tls_address */
		if (ops[1].atom != DW_OP_GNU_push_tls_address &&
		    ops[1].atom != DW_OP_form_tls_address)
			return false;
		*tls = true;
		*ret = 0;
		return true;
	}
	if (ops[0].atom == DW_OP_addr) {
		addr = ops[0].number;
	} else if (ops[0].atom == DW_OP_addrx ||
		   ops[0].atom == DW_OP_GNU_addr_index) {
		Dwarf_Attribute result;
		if (dwarf_getlocation_attr(&attr, &ops[0], &result) != 0 ||
		    dwarf_formaddr(&result, &addr) != 0)
			return false;
	} else {
		return false;
	}
	*tls = false;
	*ret = addr + m->bias;
	return true;
}

static struct ac_error *variable_result(struct module *m, Dwarf_Die *die,
					uint64_t address, const char *name,
					struct ac_variable *ret)
{
	Dwarf_Die type;
	if (!die_type(die, &type))
		return ac_error_create(AC_ERR_LOOKUP,
				       "variable '%s' has no type", name);
	ret->address = address;
	ret->type.module = m->mod;
	ret->type.die = type;
	return NULL;
}

/* A defining DIE from an index; address 0 matches any address. */
static bool var_from_index(struct module *m, struct name_index *ni,
			   const char *name, uint64_t address,
			   Dwarf_Die *die, uint64_t *addr, bool *tls)
{
	htab_for_each(&ni->vars, name, e) {
		uint64_t a;
		bool t;
		if ((e->flags & ENTRY_DECL) || !var_address(m, &e->v.die, &a, &t))
			continue;
		if (address && a != address)
			continue;
		*die = e->v.die;
		*addr = a;
		*tls = t;
		return true;
	}
	return false;
}

static bool var_decl_from_index(struct name_index *ni, const char *name,
				Dwarf_Die *die)
{
	htab_for_each(&ni->vars, name, e) {
		*die = e->v.die;
		return true;
	}
	return false;
}

static struct ac_error *tls_error(const char *name)
{
	return ac_error_create(AC_ERR_LOOKUP,
			       "variable '%s' is thread-local; its address depends on the thread",
			       name);
}

static struct ac_error *find_variable(struct ac_dwarf *dw, const char *name,
				      const char *hint, struct ac_variable *ret)
{
	struct ac_error *err;
	struct name_index *ni;
	struct module *m = NULL;
	Dwarf_Die die;
	uint64_t addr;
	bool tls;

	if ((err = hint_index(dw, hint, &m, &ni)))
		return err;
	if (ni) {
		if (var_from_index(m, ni, name, 0, &die, &addr, &tls))
			return tls ? tls_error(name) :
			       variable_result(m, &die, addr, name, ret);
		/* Declared extern there: the symbol gives the address. */
		if (var_decl_from_index(ni, name, &die)) {
			struct sym_hit hit;
			if ((err = module_syms(dw, m)))
				return err;
			if (sym_find(m, name, false, &hit) && !hit.tls)
				return variable_result(m, &die, hit.address,
						       name, ret);
		}
	}

	/* The symbol table has the address; find the DIE for its type. */
	for (size_t i = 0; i < dw->nmodules; i++) {
		struct sym_hit hit;
		m = &dw->modules[i];
		if ((err = module_syms(dw, m)))
			return err;
		if (!sym_find(m, name, false, &hit))
			continue;
		if (hit.tls)
			return tls_error(name);
		Dwarf_Die cu;
		if (hit.local && cu_of_local_sym(m, hit.index, &cu)) {
			ni = cu_index(dw, m, &cu, &err);
			if (err)
				return err;
			if (var_from_index(m, ni, name, hit.address, &die,
					   &addr, &tls))
				return variable_result(m, &die, addr, name,
						       ret);
		}
		ni = module_full_index(dw, m, &err);
		if (err)
			return err;
		if (var_from_index(m, ni, name, hit.address, &die, &addr, &tls))
			return variable_result(m, &die, addr, name, ret);
		if (!hit.local && var_decl_from_index(ni, name, &die))
			return variable_result(m, &die, hit.address, name, ret);
		return ac_error_create(AC_ERR_LOOKUP,
				       "symbol '%s' has no DWARF description",
				       name);
	}

	/*
	 * No symbol: search the DWARF of the modules whose symbol table could
	 * have missed it (.dynsym only).  With a full .symtab a variable
	 * without a symbol has no storage to read, and indexing every CU of
	 * a QEMU executable to learn that costs more than the whole diagnosis
	 * (a tool has no BQL).
	 */
	for (size_t i = 0; i < dw->nmodules; i++) {
		m = &dw->modules[i];
		if (m->full_symtab)
			continue;
		ni = module_index_for(dw, m, name, &err);
		if (err)
			return err;
		if (var_from_index(m, ni, name, 0, &die, &addr, &tls))
			return tls ? tls_error(name) :
			       variable_result(m, &die, addr, name, ret);
	}
	return ac_error_create(AC_ERR_LOOKUP, "no variable '%s'%s%s%s", name,
			       hint ? " (near function '" : "",
			       hint ? hint : "", hint ? "')" : "");
}

/* Cache entries of the (name, hint) caches. */
struct cached {
	bool found;
	union {
		struct ac_variable var;
		struct ac_type type;
		int64_t value;
		struct {
			struct ac_member member;
			unsigned which;
		} m;
	} u;
	char *message;          /* of the lookup error when !found */
};

static void cached_free(void *p)
{
	struct cached *c = p;
	if (c)
		free(c->message);
	free(c);
}

static char *cache_key(const char *a, const char *b, const char *c)
{
	char *key;
	if (asprintf(&key, "%s\x1f%s\x1f%s", a ? a : "", b ? b : "",
		     c ? c : "") < 0)
		return NULL;
	return key;
}

/*
 * Store the outcome of a lookup.  Lookup errors are cached too, so that a
 * decoder falling back between layouts does not repeat a failed search.
 */
static struct ac_error *cache_store(struct htab *h, const char *key,
				    struct ac_error *err, struct cached *c)
{
	if (err && err->code != AC_ERR_LOOKUP)
		return err;
	struct cached *copy = malloc(sizeof(*copy));
	struct hent *e = NULL;
	if (copy) {
		*copy = *c;
		copy->found = !err;
		copy->message = err ? strdup(err->message) : NULL;
		if ((!err || copy->message) && (e = htab_add(h, key)))
			e->v.ptr = copy;
		else
			cached_free(copy);
	}
	return err;
}

static struct cached *cache_get(const struct htab *h, const char *key,
				struct ac_error **err)
{
	struct hent *e = htab_first(h, key);
	if (!e)
		return NULL;
	struct cached *c = e->v.ptr;
	*err = c->found ? NULL : ac_error_create(AC_ERR_LOOKUP, "%s",
						 c->message);
	return c;
}

struct ac_error *ac_dwarf_find_variable(struct ac_dwarf *dw, const char *name,
					const char *hint_function,
					struct ac_variable *ret)
{
	struct ac_error *err;
	char *key = cache_key(name, hint_function, NULL);
	if (!key)
		return no_memory();
	struct cached *c = cache_get(&dw->var_cache, key, &err);
	struct cached fresh = { 0 };
	if (!c) {
		err = find_variable(dw, name, hint_function, &fresh.u.var);
		err = cache_store(&dw->var_cache, key, err, &fresh);
		c = &fresh;
	}
	if (!err)
		*ret = c->u.var;
	free(key);
	return err;
}

/* ---- types ------------------------------------------------------------- */

struct ac_type ac_type_strip(const struct ac_type *type)
{
	struct ac_type t = *type;
	strip_die(&t.die);
	return t;
}

/* Lower is better: complete before declared, typedef before tags. */
static int type_rank(const struct hent *e, int want_tag)
{
	if (want_tag && e->tag != want_tag)
		return -1;
	int rank;
	switch (e->tag) {
	case DW_TAG_typedef: rank = 0; break;
	case DW_TAG_structure_type: rank = 1; break;
	case DW_TAG_union_type: rank = 2; break;
	case DW_TAG_enumeration_type: rank = 3; break;
	case DW_TAG_base_type: rank = 4; break;
	default: return -1;
	}
	return rank + ((e->flags & ENTRY_DECL) ? 10 : 0);
}

static bool best_type(struct name_index *ni, const char *name, int want_tag,
		      Dwarf_Die *die, bool *decl)
{
	int best = -1;
	htab_for_each(&ni->types, name, e) {
		int rank = type_rank(e, want_tag);
		if (rank < 0 || (best >= 0 && rank >= best))
			continue;
		best = rank;
		*die = e->v.die;
		*decl = e->flags & ENTRY_DECL;
	}
	return best >= 0;
}

static bool is_declaration(Dwarf_Die *die)
{
	return die_flag(die, DW_AT_declaration);
}

/*
 * A struct/union/enum that is only declared here (a pointer to a type
 * private to another .c file) is completed from the module indexes.
 */
static struct ac_error *complete_type(struct ac_dwarf *dw, struct ac_type *t)
{
	int tag = dwarf_tag(&t->die);
	const char *name = dwarf_diename(&t->die);
	if ((tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
	     tag != DW_TAG_enumeration_type) || !name ||
	    !is_declaration(&t->die))
		return NULL;
	/* The type's own module first, then the others in search order. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < dw->nmodules; i++) {
			struct module *m = &dw->modules[i];
			if ((m->mod == t->module) != (pass == 0))
				continue;
			struct ac_error *err;
			struct name_index *ni = module_index_for(dw, m, name, &err);
			Dwarf_Die die;
			bool decl;
			if (err)
				return err;
			if (best_type(ni, name, tag, &die, &decl) && !decl) {
				t->module = m->mod;
				t->die = die;
				return NULL;
			}
		}
	}
	return NULL;
}

struct ac_error *ac_dwarf_complete_type(struct ac_dwarf *dw,
					const struct ac_type *type,
					struct ac_type *ret)
{
	struct ac_type t = ac_type_strip(type);
	struct ac_error *err = complete_type(dw, &t);
	if (!err)
		*ret = t;
	return err;
}

static struct ac_error *resolve_type(struct ac_dwarf *dw, struct module *m,
				     Dwarf_Die *die, struct ac_type *ret)
{
	struct ac_type t = { .module = m->mod, .die = *die };
	return ac_dwarf_complete_type(dw, &t, ret);
}

static struct ac_error *find_type(struct ac_dwarf *dw, const char *spec,
				  const char *hint, struct ac_type *ret)
{
	static const struct {
		const char *prefix;
		int tag;
	} prefixes[] = {
		{ "struct ", DW_TAG_structure_type },
		{ "union ", DW_TAG_union_type },
		{ "enum ", DW_TAG_enumeration_type },
	};
	const char *name = spec;
	int tag = 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i].prefix);
		if (strncmp(spec, prefixes[i].prefix, len) == 0) {
			name = spec + len;
			while (*name == ' ')
				name++;
			tag = prefixes[i].tag;
			break;
		}
	}

	struct ac_error *err;
	struct name_index *ni;
	struct module *m = NULL, *decl_module = NULL;
	Dwarf_Die die, decl_die;
	bool decl;
	if ((err = hint_index(dw, hint, &m, &ni)))
		return err;
	if (ni && best_type(ni, name, tag, &die, &decl)) {
		if (!decl)
			return resolve_type(dw, m, &die, ret);
		decl_module = m;
		decl_die = die;
	}
	for (size_t i = 0; i < dw->nmodules; i++) {
		m = &dw->modules[i];
		ni = module_index_for(dw, m, name, &err);
		if (err)
			return err;
		if (!best_type(ni, name, tag, &die, &decl))
			continue;
		if (!decl)
			return resolve_type(dw, m, &die, ret);
		if (!decl_module) {
			decl_module = m;
			decl_die = die;
		}
	}
	/* Only declared anywhere: hand out the declaration. */
	if (decl_module)
		return resolve_type(dw, decl_module, &decl_die, ret);
	return ac_error_create(AC_ERR_LOOKUP, "no type '%s'%s%s%s", spec,
			       hint ? " (near function '" : "",
			       hint ? hint : "", hint ? "')" : "");
}

struct ac_error *ac_dwarf_find_type(struct ac_dwarf *dw, const char *name,
				    const char *hint_function,
				    struct ac_type *ret)
{
	struct ac_error *err;
	char *key = cache_key(name, hint_function, NULL);
	if (!key)
		return no_memory();
	struct cached *c = cache_get(&dw->type_cache, key, &err);
	struct cached fresh = { 0 };
	if (!c) {
		err = find_type(dw, name, hint_function, &fresh.u.type);
		err = cache_store(&dw->type_cache, key, err, &fresh);
		c = &fresh;
	}
	if (!err)
		*ret = c->u.type;
	free(key);
	return err;
}

enum ac_type_kind ac_type_kind(const struct ac_type *type)
{
	struct ac_type t = ac_type_strip(type);
	switch (dwarf_tag(&t.die)) {
	case DW_TAG_base_type: return AC_TYPE_BASE;
	case DW_TAG_pointer_type: return AC_TYPE_POINTER;
	case DW_TAG_structure_type:
	case DW_TAG_class_type: return AC_TYPE_STRUCT;
	case DW_TAG_union_type: return AC_TYPE_UNION;
	case DW_TAG_enumeration_type: return AC_TYPE_ENUM;
	case DW_TAG_array_type: return AC_TYPE_ARRAY;
	case DW_TAG_subroutine_type: return AC_TYPE_FUNCTION;
	default: return AC_TYPE_OTHER;
	}
}

struct ac_error *ac_type_size(const struct ac_type *type, uint64_t *ret)
{
	struct ac_type t = ac_type_strip(type);
	Dwarf_Word size;
	int tag = dwarf_tag(&t.die);
	if (dwarf_aggregate_size(&t.die, &size) == 0) {
		*ret = size;
		return NULL;
	}
	if (tag == DW_TAG_pointer_type) {
		uint8_t address_size;
		if (dwarf_diecu(&t.die, &(Dwarf_Die){ 0 }, &address_size,
				NULL)) {
			*ret = address_size;
			return NULL;
		}
	}
	char *name = ac_type_name(type);
	struct ac_error *err = ac_error_create(AC_ERR_LOOKUP,
					       "size of type '%s' unknown%s",
					       name ? name : "?",
					       is_declaration(&t.die) ?
					       " (only declared)" : "");
	free(name);
	return err;
}

struct scalar_slot {
	const void *die;        /* the type DIE's address; NULL: free */
	uint64_t size;
	bool scalar;
};

static size_t scalar_slot(const struct ac_dwarf *dw, const void *die)
{
	size_t i = (size_t)(((uintptr_t)die * 0x9e3779b97f4a7c15ULL) >> 24) &
		   (dw->scalars_size - 1);
	while (dw->scalars[i].die && dw->scalars[i].die != die)
		i = (i + 1) & (dw->scalars_size - 1);
	return i;
}

/* Keeps an answer; without memory it is simply not kept. */
static void scalar_keep(struct ac_dwarf *dw, const void *die, bool scalar, uint64_t size)
{
	if ((dw->scalars_used + 1) * 2 > dw->scalars_size) {
		size_t n = dw->scalars_size ? 2 * dw->scalars_size : 64;
		struct scalar_slot *old = dw->scalars, *grown = calloc(n, sizeof(*grown));
		size_t old_size = dw->scalars_size;
		if (!grown)
			return;
		dw->scalars = grown;
		dw->scalars_size = n;
		for (size_t i = 0; i < old_size; i++)
			if (old[i].die)
				dw->scalars[scalar_slot(dw, old[i].die)] = old[i];
		free(old);
	}
	dw->scalars[scalar_slot(dw, die)] = (struct scalar_slot){ die, size, scalar };
	dw->scalars_used++;
}

struct ac_error *ac_dwarf_scalar_size(struct ac_dwarf *dw, const struct ac_type *type,
				      bool *scalar, uint64_t *size)
{
	if (dw->scalars_size) {
		const struct scalar_slot *s = &dw->scalars[scalar_slot(dw, type->die.addr)];
		if (s->die) {
			*scalar = s->scalar;
			*size = s->size;
			return NULL;
		}
	}
	struct ac_type t = ac_type_strip(type);
	enum ac_type_kind kind = ac_type_kind(&t);
	*scalar = kind == AC_TYPE_BASE || kind == AC_TYPE_ENUM || kind == AC_TYPE_POINTER;
	*size = 0;
	if (*scalar) {
		struct ac_error *err = ac_type_size(&t, size);
		if (err)
			return err;
	}
	scalar_keep(dw, type->die.addr, *scalar, *size);
	return NULL;
}

struct ac_error *ac_type_target(const struct ac_type *type, struct ac_type *ret)
{
	struct ac_type t = ac_type_strip(type);
	int tag = dwarf_tag(&t.die);
	Dwarf_Die target;
	const char *what = NULL;
	if (tag != DW_TAG_pointer_type && tag != DW_TAG_array_type)
		what = "is not a pointer or array";
	else if (!die_type(&t.die, &target))
		what = "points to void";
	if (what) {
		char *name = ac_type_name(type);
		struct ac_error *err = ac_error_create(AC_ERR_LOOKUP,
						       "type '%s' %s",
						       name ? name : "?", what);
		free(name);
		return err;
	}
	ret->module = t.module;
	ret->die = target;
	return NULL;
}

/* ---- type names -------------------------------------------------------- */

static char *type_name_die(Dwarf_Die *die, int depth);

static bool ends_with_star(const char *s)
{
	size_t n = strlen(s);
	return n && s[n - 1] == '*';
}

static char *join_params(Dwarf_Die *fn, int depth)
{
	char *out = strdup("");
	Dwarf_Die child;
	bool any = false;
	if (out && dwarf_child(fn, &child) == 0) {
		do {
			int tag = dwarf_tag(&child);
			char *piece = NULL, *next;
			Dwarf_Die pt;
			if (tag == DW_TAG_formal_parameter && die_type(&child, &pt))
				piece = type_name_die(&pt, depth + 1);
			else if (tag == DW_TAG_unspecified_parameters)
				piece = strdup("...");
			else
				continue;
			if (!piece ||
			    asprintf(&next, "%s%s%s", out, any ? ", " : "",
				     piece) < 0) {
				free(piece);
				free(out);
				return NULL;
			}
			free(piece);
			free(out);
			out = next;
			any = true;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (out && !any && dwarf_hasattr(fn, DW_AT_prototyped)) {
		free(out);
		out = strdup("void");
	}
	return out;
}

static char *function_name(Dwarf_Die *fn, const char *declarator, int depth)
{
	Dwarf_Die rt;
	char *ret = die_type(fn, &rt) ? type_name_die(&rt, depth + 1) :
		    strdup("void");
	char *params = join_params(fn, depth);
	char *out = NULL;
	if (ret && params &&
	    asprintf(&out, "%s (%s)(%s)", ret, declarator, params) < 0)
		out = NULL;
	free(ret);
	free(params);
	return out;
}

static char *type_name_die(Dwarf_Die *die, int depth)
{
	Dwarf_Die target;
	char *inner, *out = NULL;
	const char *name = dwarf_diename(die);
	const char *kw = NULL;
	bool has_target;
	if (depth > 32)
		return strdup("?");
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
	case DW_TAG_typedef:
	case DW_TAG_unspecified_type:
		return strdup(name ? name : "?");
	case DW_TAG_structure_type: kw = "struct"; break;
	case DW_TAG_class_type: kw = "class"; break;
	case DW_TAG_union_type: kw = "union"; break;
	case DW_TAG_enumeration_type: kw = "enum"; break;
	case DW_TAG_pointer_type:
		has_target = die_type(die, &target);
		if (has_target && dwarf_tag(&target) == DW_TAG_subroutine_type)
			return function_name(&target, "*", depth);
		inner = has_target ? type_name_die(&target, depth + 1) :
			strdup("void");
		if (inner && asprintf(&out, "%s%s", inner,
				      ends_with_star(inner) ? "*" : " *") < 0)
			out = NULL;
		free(inner);
		return out;
	case DW_TAG_const_type: kw = "const"; goto qualifier;
	case DW_TAG_volatile_type: kw = "volatile"; goto qualifier;
	case DW_TAG_restrict_type: kw = "restrict"; goto qualifier;
	case DW_TAG_atomic_type: kw = "_Atomic"; goto qualifier;
	qualifier:
		inner = die_type(die, &target) ?
			type_name_die(&target, depth + 1) : strdup("void");
		if (inner && (ends_with_star(inner) ?
			      asprintf(&out, "%s %s", inner, kw) :
			      asprintf(&out, "%s %s", kw, inner)) < 0)
			out = NULL;
		free(inner);
		return out;
	case DW_TAG_array_type: {
		char dims[256] = "";
		size_t len = 0;
		Dwarf_Die child;
		if (dwarf_child(die, &child) == 0) {
			do {
				Dwarf_Attribute attr;
				Dwarf_Word v;
				if (dwarf_tag(&child) != DW_TAG_subrange_type)
					continue;
				if (dwarf_attr(&child, DW_AT_count, &attr) &&
				    dwarf_formudata(&attr, &v) == 0)
					;
				else if (dwarf_attr(&child, DW_AT_upper_bound,
						    &attr) &&
					 dwarf_formudata(&attr, &v) == 0)
					v++;
				else
					v = 0;
				int n = v ? snprintf(dims + len,
						     sizeof(dims) - len,
						     "[%" PRIu64 "]", (uint64_t)v) :
					snprintf(dims + len,
						 sizeof(dims) - len, "[]");
				if (n < 0 || (size_t)n >= sizeof(dims) - len)
					break;
				len += (size_t)n;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		inner = die_type(die, &target) ?
			type_name_die(&target, depth + 1) : strdup("?");
		if (inner && asprintf(&out, "%s %s", inner,
				      len ? dims : "[]") < 0)
			out = NULL;
		free(inner);
		return out;
	}
	case DW_TAG_subroutine_type:
		return function_name(die, "", depth);
	default:
		return strdup(name ? name : "?");
	}
	if (asprintf(&out, "%s %s", kw, name ? name : "<anonymous>") < 0)
		return NULL;
	return out;
}

char *ac_type_name(const struct ac_type *type)
{
	Dwarf_Die die = type->die;
	return type_name_die(&die, 0);
}

/* ---- members ----------------------------------------------------------- */

static struct ac_error *member_location(Dwarf_Die *member, uint64_t *ret)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;
	*ret = 0;
	if (!dwarf_attr_integrate(member, DW_AT_data_member_location, &attr))
		return NULL; /* union members, DW_AT_data_bit_offset bit-fields */
	switch (dwarf_whatform(&attr)) {
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
	case DW_FORM_exprloc: {
		Dwarf_Op *ops;
		size_t n;
		if (dwarf_getlocation(&attr, &ops, &n) == 0 && n == 1 &&
		    (ops[0].atom == DW_OP_plus_uconst ||
		     ops[0].atom == DW_OP_constu)) {
			*ret = ops[0].number;
			return NULL;
		}
		return ac_error_create(AC_ERR_LOOKUP,
				       "member '%s' has a computed location",
				       dwarf_diename(member) ?: "?");
	}
	default:
		if (dwarf_formudata(&attr, &v) != 0)
			return ac_error_create(AC_ERR_ELFUTILS,
					       "member location: %s",
					       dwarf_errmsg(-1));
		*ret = v;
		return NULL;
	}
}

static bool die_udata(Dwarf_Die *die, unsigned name, Dwarf_Word *ret)
{
	Dwarf_Attribute attr;
	return dwarf_attr_integrate(die, name, &attr) &&
	       dwarf_formudata(&attr, ret) == 0;
}

/* Offset and bit position of one member DIE, relative to its struct. */
static struct ac_error *member_from_die(Dwfl_Module *mod, Dwarf_Die *member,
					struct ac_member *ret)
{
	uint64_t loc, bits;
	Dwarf_Word bit_size = 0, v;
	Dwarf_Die type;
	struct ac_error *err = member_location(member, &loc);
	if (err)
		return err;
	if (!die_type(member, &type))
		return ac_error_create(AC_ERR_LOOKUP, "member '%s' has no type",
				       dwarf_diename(member) ?: "?");
	ret->type.module = mod;
	ret->type.die = type;
	ret->offset = loc;
	ret->bit_size = 0;
	ret->bit_offset = 0;
	if (!die_udata(member, DW_AT_bit_size, &bit_size) || !bit_size)
		return NULL;
	if (die_udata(member, DW_AT_data_bit_offset, &v)) {
		bits = loc * 8 + v;
	} else if (die_udata(member, DW_AT_bit_offset, &v)) {
		/* DWARF 2/3: counted from the most significant bit of the
		 * storage unit; turn it into little-endian numbering. */
		Dwarf_Word storage;
		if (!die_udata(member, DW_AT_byte_size, &storage) &&
		    dwarf_aggregate_size(&type, &storage) != 0)
			return ac_error_create(AC_ERR_LOOKUP,
					       "bit-field '%s' has no storage size",
					       dwarf_diename(member) ?: "?");
		if (v + bit_size > storage * 8)
			return ac_error_create(AC_ERR_LOOKUP,
					       "bit-field '%s' does not fit its storage unit",
					       dwarf_diename(member) ?: "?");
		bits = loc * 8 + storage * 8 - v - bit_size;
	} else {
		bits = loc * 8;
	}
	ret->offset = bits / 8;
	ret->bit_offset = (unsigned)(bits % 8);
	ret->bit_size = (unsigned)bit_size;
	return NULL;
}

static bool is_aggregate(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_class_type;
}

/* One member of a struct or union, looking into anonymous members. */
static struct ac_error *find_member_in(struct ac_dwarf *dw,
				       const struct ac_type *outer,
				       const char *name, struct ac_member *ret,
				       bool *found, int depth)
{
	Dwarf_Die child;
	*found = false;
	if (depth > 16 || dwarf_child((Dwarf_Die *)&outer->die, &child) != 0)
		return NULL;
	do {
		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		const char *n = dwarf_diename(&child);
		if (n) {
			if (strcmp(n, name) != 0)
				continue;
			struct ac_error *err = member_from_die(outer->module,
							       &child, ret);
			*found = !err;
			return err;
		}
		struct ac_member anon, inner;
		if (member_from_die(outer->module, &child, &anon))
			continue; /* unusable anonymous member: skip it */
		struct ac_type t = ac_type_strip(&anon.type);
		struct ac_error *err = complete_type(dw, &t);
		if (err)
			return err;
		if (!is_aggregate(&t.die))
			continue;
		err = find_member_in(dw, &t, name, &inner, found, depth + 1);
		if (err || *found) {
			if (*found) {
				*ret = inner;
				ret->offset += anon.offset;
			}
			return err;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return NULL;
}

/* One alternative: a dotted path.  path is modified. */
static struct ac_error *member_path(struct ac_dwarf *dw,
				    const struct ac_type *type, char *path,
				    struct ac_member *ret, bool *found)
{
	struct ac_type cur = *type;
	struct ac_member acc = { 0 };
	char *save = NULL;
	bool any = false;
	*found = false;
	for (char *comp = strtok_r(path, ".", &save); comp;
	     comp = strtok_r(NULL, ".", &save)) {
		struct ac_member m;
		bool f;
		cur = ac_type_strip(&cur);
		struct ac_error *err = complete_type(dw, &cur);
		if (err)
			return err;
		if (!is_aggregate(&cur.die))
			return NULL;
		if ((err = find_member_in(dw, &cur, comp, &m, &f, 0)) || !f)
			return err;
		acc.offset += m.offset;
		acc.type = m.type;
		acc.bit_size = m.bit_size;
		acc.bit_offset = m.bit_offset;
		cur = m.type;
		any = true;
	}
	if (any) {
		*found = true;
		*ret = acc;
	}
	return NULL;
}

static struct ac_error *find_member(struct ac_dwarf *dw,
				    const struct ac_type *type,
				    const char *path, struct ac_member *ret,
				    unsigned *which)
{
	char *copy = strdup(path);
	if (!copy)
		return no_memory();
	char *save = NULL;
	unsigned index = 0;
	struct ac_error *err = NULL;
	bool found = false;
	for (char *alt = strtok_r(copy, "|", &save); alt && !found && !err;
	     alt = strtok_r(NULL, "|", &save), index++) {
		while (*alt == ' ')
			alt++;
		err = member_path(dw, type, alt, ret, &found);
		if (found)
			*which = index;
	}
	free(copy);
	if (err || found)
		return err;
	char *name = ac_type_name(type);
	err = ac_error_create(AC_ERR_LOOKUP, "type '%s' has no member '%s'",
			      name ? name : "?", path);
	free(name);
	return err;
}

struct ac_error *ac_dwarf_member(struct ac_dwarf *dw, const struct ac_type *type,
				 const char *path, struct ac_member *ret,
				 unsigned *which)
{
	char owner[64];
	struct ac_error *err;
	snprintf(owner, sizeof(owner), "%p:%p", (void *)type->module,
		 (void *)type->die.addr);
	char *key = cache_key(owner, path, NULL);
	if (!key)
		return no_memory();
	struct cached *c = cache_get(&dw->member_cache, key, &err);
	struct cached fresh = { 0 };
	if (!c) {
		err = find_member(dw, type, path, &fresh.u.m.member,
				  &fresh.u.m.which);
		err = cache_store(&dw->member_cache, key, err, &fresh);
		c = &fresh;
	}
	if (!err) {
		*ret = c->u.m.member;
		if (which)
			*which = c->u.m.which;
	}
	free(key);
	return err;
}

bool ac_dwarf_has_member(struct ac_dwarf *dw, const struct ac_type *type,
			 const char *path)
{
	struct ac_member m;
	struct ac_error *err = ac_dwarf_member(dw, type, path, &m, NULL);
	ac_error_destroy(err);
	return !err;
}

/* ---- enumerators ------------------------------------------------------- */

static bool enumerator_value(Dwarf_Die *die, bool is_signed, int64_t *ret)
{
	Dwarf_Attribute attr;
	if (!dwarf_attr(die, DW_AT_const_value, &attr))
		return false;
	unsigned form = dwarf_whatform(&attr);
	if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
		Dwarf_Sword s;
		if (dwarf_formsdata(&attr, &s) != 0)
			return false;
		*ret = s;
		return true;
	}
	/* libdw does not sign-extend DW_FORM_dataN: do it per the enum. */
	Dwarf_Word u;
	if (dwarf_formudata(&attr, &u) != 0)
		return false;
	if (is_signed && form == DW_FORM_data1)
		*ret = (int8_t)u;
	else if (is_signed && form == DW_FORM_data2)
		*ret = (int16_t)u;
	else if (is_signed && form == DW_FORM_data4)
		*ret = (int32_t)u;
	else
		*ret = (int64_t)u;
	return true;
}

static struct ac_error *enum_type(struct ac_dwarf *dw, const char *enum_name,
				  const char *hint, struct ac_type *ret)
{
	struct ac_error *err = ac_dwarf_find_type(dw, enum_name, hint, ret);
	if (!err && ac_type_kind(ret) == AC_TYPE_ENUM)
		return NULL;
	if (strncmp(enum_name, "enum ", 5) == 0) {
		if (!err)
			err = ac_error_create(AC_ERR_LOOKUP,
					      "'%s' is not an enum", enum_name);
		return err;
	}
	/* A bare name that is also a struct or typedef: ask for the tag. */
	ac_error_destroy(err);
	char *spec;
	if (asprintf(&spec, "enum %s", enum_name) < 0)
		return no_memory();
	err = ac_dwarf_find_type(dw, spec, hint, ret);
	free(spec);
	return err;
}

static struct ac_error *find_enumerator(struct ac_dwarf *dw,
					const char *enum_name,
					const char *enumerator,
					const char *hint, int64_t *ret)
{
	struct ac_error *err;
	if (enum_name) {
		struct ac_type t;
		Dwarf_Die child;
		if ((err = enum_type(dw, enum_name, hint, &t)))
			return err;
		bool is_signed = enum_is_signed(&t.die);
		if (dwarf_child(&t.die, &child) == 0) {
			do {
				const char *n = dwarf_diename(&child);
				if (dwarf_tag(&child) == DW_TAG_enumerator &&
				    n && strcmp(n, enumerator) == 0 &&
				    enumerator_value(&child, is_signed, ret))
					return NULL;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		return ac_error_create(AC_ERR_LOOKUP,
				       "enum '%s' has no enumerator '%s'",
				       enum_name, enumerator);
	}

	struct name_index *ni;
	struct module *m = NULL;
	if ((err = hint_index(dw, hint, &m, &ni)))
		return err;
	struct hent *e = ni ? htab_first(&ni->enums, enumerator) : NULL;
	if (e && enumerator_value(&e->v.die, e->flags & ENTRY_SIGNED, ret))
		return NULL;
	for (size_t i = 0; i < dw->nmodules; i++) {
		if (!(ni = module_index_for(dw, &dw->modules[i], enumerator, &err)))
			return err;
		e = htab_first(&ni->enums, enumerator);
		if (e && enumerator_value(&e->v.die, e->flags & ENTRY_SIGNED,
					  ret))
			return NULL;
	}
	return ac_error_create(AC_ERR_LOOKUP, "no enumerator '%s'%s%s%s",
			       enumerator, hint ? " (near function '" : "",
			       hint ? hint : "", hint ? "')" : "");
}

struct ac_error *ac_dwarf_enumerator(struct ac_dwarf *dw, const char *enum_name,
				     const char *enumerator,
				     const char *hint_function, int64_t *ret)
{
	struct ac_error *err;
	char *key = cache_key(enum_name, enumerator, hint_function);
	if (!key)
		return no_memory();
	struct cached *c = cache_get(&dw->enum_cache, key, &err);
	struct cached fresh = { 0 };
	if (!c) {
		err = find_enumerator(dw, enum_name, enumerator, hint_function,
				      &fresh.u.value);
		err = cache_store(&dw->enum_cache, key, err, &fresh);
		c = &fresh;
	}
	if (!err)
		*ret = c->u.value;
	free(key);
	return err;
}

const char *ac_dwarf_enumerator_name(struct ac_dwarf *dw,
				     const struct ac_type *enum_type,
				     int64_t value)
{
	struct ac_type t = ac_type_strip(enum_type);
	struct ac_error *err = complete_type(dw, &t);
	Dwarf_Die child;
	if (err) {
		ac_error_destroy(err);
		return NULL;
	}
	if (dwarf_tag(&t.die) != DW_TAG_enumeration_type ||
	    dwarf_child(&t.die, &child) != 0)
		return NULL;
	bool is_signed = enum_is_signed(&t.die);
	do {
		int64_t v;
		if (dwarf_tag(&child) == DW_TAG_enumerator &&
		    enumerator_value(&child, is_signed, &v) && v == value)
			return dwarf_diename(&child);
	} while (dwarf_siblingof(&child, &child) == 0);
	return NULL;
}

/* ---- functions and symbols --------------------------------------------- */

struct ac_error *ac_dwarf_function_address(struct ac_dwarf *dw, const char *name,
					   uint64_t *ret)
{
	struct ac_error *err;
	for (size_t i = 0; i < dw->nmodules; i++) {
		struct module *m = &dw->modules[i];
		struct sym_hit hit;
		if ((err = module_syms(dw, m)))
			return err;
		if (sym_find(m, name, true, &hit)) {
			*ret = hit.address;
			return NULL;
		}
	}
	for (size_t i = 0; i < dw->nmodules; i++) {
		struct module *m = &dw->modules[i];
		struct name_index *ni = module_index_for(dw, m, name, &err);
		if (!ni)
			return err;
		Dwarf_Addr pc;
		htab_for_each(&ni->funcs, name, e) {
			if (dwarf_entrypc(&e->v.die, &pc) == 0) {
				*ret = pc + m->bias;
				return NULL;
			}
		}
	}
	return ac_error_create(AC_ERR_LOOKUP, "no function '%s'", name);
}

struct ac_error *ac_dwarf_tls_symbols(struct ac_dwarf *dw, Dwfl_Module *mod,
				      const char *name, size_t *count,
				      uint64_t *offset, bool *differ)
{
	*count = 0;
	*differ = false;
	for (size_t i = 0; i < dw->nmodules; i++) {
		struct module *m = &dw->modules[i];
		if (m->mod != mod)
			continue;
		struct ac_error *err = module_syms(dw, m);
		if (err)
			return err;
		struct ac_symbol_iter it;
		GElf_Sym sym;
		GElf_Addr addr;
		ac_symbol_iter_init(&it, m->syms, name);
		while (ac_symbol_iter_next(&it, &sym, &addr)) {
			if (GELF_ST_TYPE(sym.st_info) != STT_TLS)
				continue;
			if (*count && *offset != sym.st_value)
				*differ = true;
			*offset = sym.st_value;
			(*count)++;
		}
	}
	return NULL;
}

struct ac_error *ac_dwarf_symbolize(struct ac_dwarf *dw, uint64_t address,
				    const char **name, uint64_t *offset)
{
	Dwfl_Module *mod = dwfl_addrmodule(dw->dwfl, address);
	GElf_Off off;
	GElf_Sym sym;
	const char *n = mod ? dwfl_module_addrinfo(mod, address, &off, &sym,
						   NULL, NULL, NULL) : NULL;
	if (!n)
		return ac_error_create_at(AC_ERR_LOOKUP, address,
					  "no symbol covers 0x%" PRIx64,
					  address);
	*name = n;
	*offset = off;
	return NULL;
}

/* ---- life cycle -------------------------------------------------------- */

static int collect_module(Dwfl_Module *mod, void **userdata, const char *name,
			  Dwarf_Addr start, void *arg)
{
	struct ac_dwarf *dw = arg;
	(void)userdata;
	(void)name;
	(void)start;
	struct module *m = ac_array_slot(dw->modules, dw->nmodules);
	if (!m)
		return DWARF_CB_ABORT;
	m->mod = mod;
	dw->nmodules++;
	return DWARF_CB_OK;
}

struct ac_error *ac_dwarf_create(Dwfl *dwfl, Dwfl_Module *main_module,
				 struct ac_dwarf **ret)
{
	struct ac_dwarf *dw = calloc(1, sizeof(*dw));
	if (!dw)
		return no_memory();
	dw->dwfl = dwfl;
	htab_init(&dw->var_cache, true, cached_free);
	htab_init(&dw->type_cache, true, cached_free);
	htab_init(&dw->member_cache, true, cached_free);
	htab_init(&dw->enum_cache, true, cached_free);
	htab_init(&dw->hint_cache, true, free_plain);
	name_index_init(&dw->none);
	if (dwfl_getmodules(dwfl, collect_module, dw, 0) != 0) {
		ac_dwarf_destroy(dw);
		return no_memory();
	}
	if (main_module) {
		size_t i;
		for (i = 0; i < dw->nmodules; i++)
			if (dw->modules[i].mod == main_module)
				break;
		if (i == dw->nmodules &&
		    collect_module(main_module, NULL, NULL, 0, dw) != DWARF_CB_OK) {
			ac_dwarf_destroy(dw);
			return no_memory();
		}
		struct module main = dw->modules[i];
		memmove(&dw->modules[1], &dw->modules[0],
			i * sizeof(dw->modules[0]));
		dw->modules[0] = main;
	}
	for (size_t i = 0; i < dw->nmodules; i++) {
		htab_init(&dw->modules[i].cus, true, name_index_free);
		name_index_init(&dw->modules[i].full);
	}
	if (!dw->nmodules) {
		ac_dwarf_destroy(dw);
		return ac_error_create(AC_ERR_USAGE, "no modules reported");
	}
	*ret = dw;
	return NULL;
}

void ac_dwarf_use_target_symbols(struct ac_dwarf *dw, struct ac_target *target)
{
	dw->target = target;
}

void ac_dwarf_destroy(struct ac_dwarf *dw)
{
	if (!dw)
		return;
	for (size_t i = 0; i < dw->nmodules; i++) {
		ac_symbol_names_destroy(dw->modules[i].own_syms);
		htab_deinit(&dw->modules[i].cus);
		name_index_deinit(&dw->modules[i].full);
		ac_name_filter_destroy(dw->modules[i].filter);
	}
	free(dw->modules);
	htab_deinit(&dw->var_cache);
	htab_deinit(&dw->type_cache);
	htab_deinit(&dw->member_cache);
	htab_deinit(&dw->enum_cache);
	htab_deinit(&dw->hint_cache);
	free(dw->scalars);
	free(dw);
}

unsigned long ac_dwarf_test_cus_scanned(const struct ac_dwarf *dw)
{
	return dw->cus_scanned;
}

unsigned long ac_dwarf_test_full_scans(const struct ac_dwarf *dw)
{
	return dw->full_scans;
}
