/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small DWARF expression evaluator over one frame's registers.  Only what
 * GCC and Clang emit for parameters and locals of -O2 code is understood;
 * anything else is "unknown", reported as AC_ERR_LOOKUP, so that a caller
 * falls back instead of trusting a wrong value.
 */
#include <dwarf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "frame-variable.h"

#ifndef DW_OP_entry_value
#define DW_OP_entry_value 0xa3
#endif
#ifndef DW_OP_GNU_entry_value
#define DW_OP_GNU_entry_value 0xf3
#endif

/* Entry values resolved through callers that also need entry values. */
#define MAX_ENTRY_DEPTH 4
#define MAX_STACK 64

/* One physical frame: its entries in bt, registers, pc for lookups. */
struct frame_ctx {
	struct ac_program *prog;
	const struct ac_backtrace *bt;
	size_t lo, hi;          /* entries [lo, hi]; hi is the concrete function */
	size_t entry;           /* the entry asked about, lo <= entry <= hi */
	Dwarf_Addr lookup_pc;   /* pc, or pc - 1 in callers */
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf_Die *scopes;
	int n_scopes;
	int first_scope;        /* scopes of the entry: [first_scope, func_scope] */
	int func_scope;
	int subprogram_scope;   /* for DW_AT_frame_base; -1 if none */
	int depth;
	uint64_t regs[AC_FRAME_MAX_REGS];  /* as trusted here: see frame_regs() */
	uint64_t regs_valid;
};

enum loc_kind {
	LOC_MEMORY,      /* the value is in memory at `value` */
	LOC_REGISTER,    /* the value is register `value` */
	LOC_VALUE,       /* `value` is the value (DW_OP_stack_value) */
};

struct location {
	enum loc_kind kind;
	uint64_t value;
};

static unsigned sp_regno(struct ac_program *prog)
{
	return ac_target_arch(prog->target) == AC_ARCH_AARCH64 ? 31 : 7;
}

static const struct ac_frame *concrete(const struct frame_ctx *fc)
{
	return &fc->bt->frames[fc->hi];
}

static bool reg_value(const struct frame_ctx *fc, uint64_t regno, uint64_t *ret)
{
	if (regno >= AC_FRAME_MAX_REGS || !(fc->regs_valid & (UINT64_C(1) << regno)))
		return false;
	*ret = fc->regs[regno];
	return true;
}

/* Whether the physical frame ending at entry i is the innermost one. */
static bool prev_is_first(const struct ac_backtrace *bt, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!bt->frames[k].inlined)
			return false;
	return true;
}

#define BIT(r) (UINT64_C(1) << (r))
#define BITS(lo, hi) (((UINT64_C(1) << ((hi) - (lo) + 1)) - 1) << (lo))

/* Registers a call preserves (psABI), by DWARF number. */
static uint64_t callee_saved_mask(enum ac_arch arch)
{
	if (arch == AC_ARCH_AARCH64)
		return BITS(19, 29);                        /* x19-x28, fp */
	return BIT(3) | BIT(6) | BITS(12, 15);              /* rbx rbp r12-r15 */
}

/* Registers that are known in a caller whenever unwinding got there. */
static uint64_t frame_mask(enum ac_arch arch)
{
	if (arch == AC_ARCH_AARCH64)
		return BIT(31) | BIT(32);                   /* sp, pc */
	return BIT(7) | BIT(16);                            /* rsp, rip */
}

/*
 * Whether the CFI of the physical frame ending at entry `callee` leaves
 * register r unchanged for its caller (no save rule).  libdwfl reports
 * such a register as unknown in the caller when its ABI default says
 * "undefined" (elfutils' x86_64 default marks DWARF 0, %rax, preserved
 * instead of 3, %rbx), although the psABI says the call preserved it.
 */
static bool cfi_keeps(Dwfl *dwfl, const struct ac_backtrace *bt, size_t callee,
		      bool activation, unsigned r)
{
	Dwarf_Addr pc = bt->frames[callee].pc - (activation ? 0 : 1);
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	if (!mod)
		return false;
	for (int which = 0; which < 2; which++) {
		Dwarf_Addr bias;
		Dwarf_CFI *cfi = which == 0 ? dwfl_module_eh_cfi(mod, &bias)
				 : dwfl_module_dwarf_cfi(mod, &bias);
		Dwarf_Frame *frame;
		if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &frame) != 0)
			continue;
		Dwarf_Op ops_mem[3], *ops;
		size_t n_ops;
		bool keeps = dwarf_frame_register(frame, (int)r, ops_mem, &ops, &n_ops) == 0 &&
			     n_ops == 0;
		free(frame);
		return keeps;
	}
	return false;   /* found without CFI: nothing says what it kept */
}

/*
 * The registers to trust in the physical frame ending at entry hi.  Frame
 * #0 has them all (from the core).  A caller has its pc and sp and the
 * callee-saved registers: as libdwfl unwound them, or, when libdwfl does
 * not know one but the callee's CFI leaves it alone, the callee's value.
 * Caller-saved registers in callers are never trusted: the call clobbered
 * them whatever libdwfl says.
 */
static void frame_regs(struct frame_ctx *fc)
{
	const struct ac_backtrace *bt = fc->bt;
	enum ac_arch arch = ac_target_arch(fc->prog->target);
	Dwfl *dwfl = ac_target_dwfl(fc->prog->target);
	uint64_t saved = callee_saved_mask(arch);
	uint64_t regs[AC_FRAME_MAX_REGS];
	uint64_t valid = 0;
	size_t prev = 0;
	bool first = true;
	for (size_t i = 0; i <= fc->hi && i < bt->n_frames; i++) {
		const struct ac_frame *f = &bt->frames[i];
		if (f->inlined)
			continue;
		if (first) {
			memcpy(regs, f->regs, sizeof(regs));
			valid = f->regs_valid;
		} else {
			uint64_t inherit = valid & saved & ~f->regs_valid;
			uint64_t now = f->regs_valid & (saved | frame_mask(arch));
			for (unsigned r = 0; r < AC_FRAME_MAX_REGS; r++) {
				if (now & BIT(r))
					regs[r] = f->regs[r];
				else if ((inherit & BIT(r)) &&
					 cfi_keeps(dwfl, bt, prev, prev_is_first(bt, prev), r))
					now |= BIT(r);  /* regs[r] stays the callee's */
			}
			valid = now;
		}
		first = false;
		prev = i;
	}
	memcpy(fc->regs, regs, sizeof(regs));
	fc->regs_valid = valid;
}

static struct ac_error *unknown(const struct frame_ctx *fc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct ac_error *unknown(const struct frame_ctx *fc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ac_error *err = ac_error_vcreate(AC_ERR_LOOKUP, false, 0, fmt, ap);
	va_end(ap);
	const struct ac_frame *f = &fc->bt->frames[fc->entry];
	return ac_error_prefix(err, "frame #%zu %s", fc->entry,
			       f->function ? f->function : "??");
}

static void frame_ctx_deinit(struct frame_ctx *fc)
{
	free(fc->scopes);
	fc->scopes = NULL;
}

static bool is_function_scope(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram;
}

/*
 * The scopes that contain lookup_pc in the concrete tree, innermost first,
 * CU excluded.  Not dwarf_getscopes(): after an inlined_subroutine it
 * continues with the scopes of the inlined function's abstract definition,
 * not with the function it was inlined into.
 */
static struct ac_error *concrete_scopes(struct frame_ctx *fc, Dwarf_Die *cudie)
{
	Dwarf_Addr pc = fc->lookup_pc - fc->bias;
	Dwarf_Die cur = *cudie;
	for (int depth = 0; depth < 256; depth++) {
		Dwarf_Die child;
		bool found = false;
		if (dwarf_child(&cur, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);
				if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine &&
				    tag != DW_TAG_lexical_block)
					continue;
				if (dwarf_haspc(&child, pc) == 1) {
					found = true;
					break;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		if (!found)
			break;
		Dwarf_Die *slot = ac_array_slot(fc->scopes, (size_t)fc->n_scopes);
		if (!slot)
			return &ac_error_no_memory;
		*slot = child;
		fc->n_scopes++;
		cur = child;
	}
	for (int i = 0; i < fc->n_scopes / 2; i++) {
		Dwarf_Die tmp = fc->scopes[i];
		fc->scopes[i] = fc->scopes[fc->n_scopes - 1 - i];
		fc->scopes[fc->n_scopes - 1 - i] = tmp;
	}
	return NULL;
}

/* Set up fc for entry `index` of bt: physical frame, module, scopes. */
static struct ac_error *frame_ctx_init(struct ac_program *prog,
				       const struct ac_backtrace *bt,
				       size_t index, int depth,
				       struct frame_ctx *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->prog = prog;
	fc->bt = bt;
	fc->entry = index;
	fc->depth = depth;
	fc->subprogram_scope = -1;
	size_t lo = index;
	while (lo > 0 && bt->frames[lo - 1].inlined)
		lo--;
	size_t hi = index;
	while (hi + 1 < bt->n_frames && bt->frames[hi].inlined)
		hi++;
	fc->lo = lo;
	fc->hi = hi;
	/* Only the innermost physical frame is an activation (its pc is the
	 * instruction that was interrupted, not a return address). */
	uint64_t pc = bt->frames[hi].pc;
	fc->lookup_pc = lo == 0 ? pc : pc - 1;
	frame_regs(fc);

	Dwfl *dwfl = ac_target_dwfl(prog->target);
	fc->mod = dwfl_addrmodule(dwfl, fc->lookup_pc);
	if (!fc->mod)
		return unknown(fc, "no module covers 0x%" PRIx64, pc);
	Dwarf_Die *cudie = dwfl_module_addrdie(fc->mod, fc->lookup_pc, &fc->bias);
	if (!cudie)
		return unknown(fc, "no DWARF for 0x%" PRIx64, pc);
	struct ac_error *err = concrete_scopes(fc, cudie);
	if (err)
		return err;
	if (fc->n_scopes == 0)
		return unknown(fc, "no DWARF function covers 0x%" PRIx64, pc);
	/* The k-th function scope (innermost first) is entry lo + k. */
	size_t want = index - lo, seen = 0;
	int start = 0;
	fc->func_scope = -1;
	for (int i = 0; i < fc->n_scopes; i++) {
		if (!is_function_scope(&fc->scopes[i]))
			continue;
		if (seen == want) {
			fc->first_scope = start;
			fc->func_scope = i;
			break;
		}
		seen++;
		start = i + 1;
	}
	if (fc->func_scope < 0)
		return unknown(fc, "DWARF scopes at 0x%" PRIx64 " do not match the backtrace", pc);
	for (int i = fc->func_scope; i < fc->n_scopes; i++)
		if (dwarf_tag(&fc->scopes[i]) == DW_TAG_subprogram) {
			fc->subprogram_scope = i;
			break;
		}
	return NULL;
}

/* The canonical frame address of fc's physical frame. */
static struct ac_error *eval_ops(struct frame_ctx *fc, Dwarf_Attribute *attr,
				 const Dwarf_Op *ops, size_t n_ops,
				 struct location *ret);

static struct ac_error *frame_cfa(struct frame_ctx *fc, uint64_t *ret)
{
	/* From the CFI: the CFA rule in terms of this frame's registers. */
	for (int which = 0; which < 2; which++) {
		Dwarf_Addr cfi_bias;
		Dwarf_CFI *cfi = which == 0 ? dwfl_module_eh_cfi(fc->mod, &cfi_bias)
				 : dwfl_module_dwarf_cfi(fc->mod, &cfi_bias);
		Dwarf_Frame *frame;
		if (!cfi || dwarf_cfi_addrframe(cfi, fc->lookup_pc - cfi_bias, &frame) != 0)
			continue;
		Dwarf_Op *ops;
		size_t n_ops;
		struct ac_error *err = NULL;
		if (dwarf_frame_cfa(frame, &ops, &n_ops) == 0 && n_ops > 0) {
			struct location loc;
			err = eval_ops(fc, NULL, ops, n_ops, &loc);
			if (!err) {
				free(frame);
				*ret = loc.value;
				return NULL;
			}
		}
		free(frame);
		ac_error_destroy(err);
	}
	/* Else the caller's stack pointer as unwound, which is the CFA. */
	size_t caller = fc->hi + 1;
	if (caller < fc->bt->n_frames) {
		unsigned sp = sp_regno(fc->prog);
		while (caller < fc->bt->n_frames && fc->bt->frames[caller].inlined)
			caller++;
		if (caller < fc->bt->n_frames &&
		    (fc->bt->frames[caller].regs_valid & (UINT64_C(1) << sp))) {
			*ret = fc->bt->frames[caller].regs[sp];
			return NULL;
		}
	}
	return unknown(fc, "no CFA at 0x%" PRIx64, concrete(fc)->pc);
}

static struct ac_error *frame_base(struct frame_ctx *fc, uint64_t *ret)
{
	if (fc->subprogram_scope < 0)
		return unknown(fc, "no enclosing subprogram for the frame base");
	Dwarf_Attribute attr;
	if (!dwarf_attr_integrate(&fc->scopes[fc->subprogram_scope],
				  DW_AT_frame_base, &attr))
		return unknown(fc, "no DW_AT_frame_base");
	Dwarf_Op *ops;
	size_t n_ops;
	int n = dwarf_getlocation_addr(&attr, fc->lookup_pc - fc->bias, &ops, &n_ops, 1);
	if (n <= 0 || n_ops == 0)
		return unknown(fc, "frame base unknown at 0x%" PRIx64, concrete(fc)->pc);
	struct location loc;
	struct ac_error *err = eval_ops(fc, &attr, ops, n_ops, &loc);
	if (err)
		return err;
	if (loc.kind == LOC_REGISTER) {
		/* DW_OP_regN as a frame base means the register's contents. */
		if (!reg_value(fc, loc.value, ret))
			return unknown(fc, "frame base register %" PRIu64 " unknown", loc.value);
		return NULL;
	}
	*ret = loc.value;
	return NULL;
}

static bool call_site_tag(int tag)
{
	return tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site;
}

static bool call_site_param_tag(int tag)
{
	return tag == DW_TAG_call_site_parameter || tag == DW_TAG_GNU_call_site_parameter;
}

/* The register a single-op DW_OP_regN/regx expression names. */
static bool single_reg(const Dwarf_Op *ops, size_t n_ops, uint64_t *regno)
{
	if (n_ops != 1)
		return false;
	if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) {
		*regno = ops[0].atom - DW_OP_reg0;
		return true;
	}
	if (ops[0].atom == DW_OP_regx) {
		*regno = ops[0].number;
		return true;
	}
	return false;
}

/*
 * DW_OP_entry_value(DW_OP_regN): the value regN had when fc's function was
 * entered, from the caller's call site parameter for regN, evaluated in
 * the caller's frame.
 */
static struct ac_error *entry_value(struct frame_ctx *fc, Dwarf_Attribute *attr,
				    const Dwarf_Op *op, uint64_t *ret)
{
	if (!attr)
		return unknown(fc, "entry value outside a location attribute");
	Dwarf_Attribute block;
	Dwarf_Op *inner;
	size_t n_inner;
	uint64_t regno;
	if (dwarf_getlocation_attr(attr, op, &block) != 0 ||
	    dwarf_getlocation(&block, &inner, &n_inner) != 0 ||
	    !single_reg(inner, n_inner, &regno))
		return unknown(fc, "unsupported DW_OP_entry_value block");
	if (fc->depth >= MAX_ENTRY_DEPTH)
		return unknown(fc, "entry values nested too deep");
	size_t caller_index = fc->hi + 1;
	if (caller_index >= fc->bt->n_frames)
		return unknown(fc, "entry value of register %" PRIu64 ": no caller frame", regno);

	struct frame_ctx caller;
	struct ac_error *err = frame_ctx_init(fc->prog, fc->bt, caller_index,
					      fc->depth + 1, &caller);
	if (err) {
		frame_ctx_deinit(&caller);
		ac_error_destroy(err);
		return unknown(fc, "entry value of register %" PRIu64 ": caller has no DWARF", regno);
	}
	Dwarf_Addr return_pc = concrete(&caller)->pc - caller.bias;
	/* The call site is a child of one of the caller's scopes. */
	for (int s = 0; s < caller.n_scopes; s++) {
		Dwarf_Die child;
		if (dwarf_child(&caller.scopes[s], &child) != 0)
			continue;
		do {
			if (!call_site_tag(dwarf_tag(&child)))
				continue;
			Dwarf_Attribute a;
			Dwarf_Addr site_pc;
			if (!dwarf_attr(&child, DW_AT_call_return_pc, &a) &&
			    !dwarf_attr(&child, DW_AT_low_pc, &a))
				continue;
			if (dwarf_formaddr(&a, &site_pc) != 0 || site_pc != return_pc)
				continue;
			Dwarf_Die param;
			if (dwarf_child(&child, &param) != 0) {
				frame_ctx_deinit(&caller);
				return unknown(fc, "entry value of register %" PRIu64
					       ": the call site records no parameters", regno);
			}
			do {
				if (!call_site_param_tag(dwarf_tag(&param)))
					continue;
				Dwarf_Attribute loc_attr, val_attr;
				Dwarf_Op *loc_ops, *val_ops;
				size_t n_loc, n_val;
				uint64_t param_reg;
				if (!dwarf_attr(&param, DW_AT_location, &loc_attr) ||
				    dwarf_getlocation(&loc_attr, &loc_ops, &n_loc) != 0 ||
				    !single_reg(loc_ops, n_loc, &param_reg) ||
				    param_reg != regno)
					continue;
				if (!dwarf_attr(&param, DW_AT_call_value, &val_attr) &&
				    !dwarf_attr(&param, DW_AT_GNU_call_site_value, &val_attr))
					break;
				if (dwarf_getlocation(&val_attr, &val_ops, &n_val) != 0 ||
				    n_val == 0)
					break;
				struct location loc;
				err = eval_ops(&caller, &val_attr, val_ops, n_val, &loc);
				if (!err && loc.kind == LOC_REGISTER &&
				    !reg_value(&caller, loc.value, &loc.value))
					err = unknown(&caller, "register %" PRIu64 " unknown", loc.value);
				frame_ctx_deinit(&caller);
				if (err) {
					ac_error_destroy(err);
					return unknown(fc, "entry value of register %" PRIu64
						       ": the caller's value is unknown too", regno);
				}
				/* A DWARF expression's result is a value. */
				*ret = loc.value;
				return NULL;
			} while (dwarf_siblingof(&param, &param) == 0);
			frame_ctx_deinit(&caller);
			return unknown(fc, "entry value of register %" PRIu64
				       ": the call site does not record it", regno);
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	frame_ctx_deinit(&caller);
	return unknown(fc, "entry value of register %" PRIu64 ": no call site for the return address",
		       regno);
}

static struct ac_error *eval_ops(struct frame_ctx *fc, Dwarf_Attribute *attr,
				 const Dwarf_Op *ops, size_t n_ops,
				 struct location *ret)
{
	uint64_t stack[MAX_STACK];
	size_t sp = 0;
	struct location loc = { LOC_MEMORY, 0 };
	bool done = false;   /* a location op that must end the expression */
	bool piece_seen = false;
	struct ac_error *err;

#define PUSH(v) do { if (sp == MAX_STACK) return unknown(fc, "DWARF stack overflow"); \
		     stack[sp++] = (v); } while (0)
#define NEED(k) do { if (sp < (k)) return unknown(fc, "DWARF stack underflow"); } while (0)

	for (size_t i = 0; i < n_ops; i++) {
		const Dwarf_Op *op = &ops[i];
		uint8_t atom = op->atom;
		uint64_t v;
		if (done && atom != DW_OP_piece)
			return unknown(fc, "unsupported DWARF location after a register or value");
		if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
			PUSH(atom - DW_OP_lit0);
		} else if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31) {
			loc = (struct location){ LOC_REGISTER, atom - DW_OP_reg0 };
			done = true;
		} else if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
			if (!reg_value(fc, atom - DW_OP_breg0, &v))
				return unknown(fc, "register %d is not known in this frame",
					       atom - DW_OP_breg0);
			PUSH(v + (uint64_t)(int64_t)op->number);
		} else {
			switch (atom) {
			case DW_OP_regx:
				loc = (struct location){ LOC_REGISTER, op->number };
				done = true;
				break;
			case DW_OP_bregx:
				if (!reg_value(fc, op->number, &v))
					return unknown(fc, "register %" PRIu64 " is not known in this frame",
						       (uint64_t)op->number);
				PUSH(v + (uint64_t)(int64_t)op->number2);
				break;
			case DW_OP_addr:
				PUSH(op->number + fc->bias);
				break;
			case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u:
			case DW_OP_const8u: case DW_OP_constu:
			case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
			case DW_OP_const8s: case DW_OP_consts:
				/* libdw stores signed constants sign-extended. */
				PUSH(op->number);
				break;
			case DW_OP_plus_uconst:
				NEED(1);
				stack[sp - 1] += op->number;
				break;
			case DW_OP_plus:
				NEED(2);
				stack[sp - 2] += stack[sp - 1];
				sp--;
				break;
			case DW_OP_minus:
				NEED(2);
				stack[sp - 2] -= stack[sp - 1];
				sp--;
				break;
			case DW_OP_and:
				NEED(2);
				stack[sp - 2] &= stack[sp - 1];
				sp--;
				break;
			case DW_OP_neg:
				NEED(1);
				stack[sp - 1] = -stack[sp - 1];
				break;
			case DW_OP_dup:
				NEED(1);
				v = stack[sp - 1];
				PUSH(v);
				break;
			case DW_OP_drop:
				NEED(1);
				sp--;
				break;
			case DW_OP_deref:
			case DW_OP_deref_size: {
				NEED(1);
				size_t size = atom == DW_OP_deref
					? ac_target_pointer_size(fc->prog->target) : op->number;
				if (size == 0 || size > 8)
					return unknown(fc, "DW_OP_deref_size %zu", size);
				err = ac_target_read_uint(fc->prog->target, stack[sp - 1],
							  size == 3 || size > 4 ? 8 : size, &v);
				if (err)
					return ac_error_prefix(err, "DW_OP_deref");
				stack[sp - 1] = size < 8 ? v & ((UINT64_C(1) << (8 * size)) - 1) : v;
				break;
			}
			case DW_OP_call_frame_cfa:
				err = frame_cfa(fc, &v);
				if (err)
					return err;
				PUSH(v);
				break;
			case DW_OP_fbreg:
				err = frame_base(fc, &v);
				if (err)
					return err;
				PUSH(v + (uint64_t)(int64_t)op->number);
				break;
			case DW_OP_stack_value:
				NEED(1);
				loc = (struct location){ LOC_VALUE, stack[sp - 1] };
				done = true;
				break;
			case DW_OP_entry_value:
			case DW_OP_GNU_entry_value:
				err = entry_value(fc, attr, op, &v);
				if (err)
					return err;
				PUSH(v);
				break;
			case DW_OP_piece:
				/* Only one piece, covering the whole variable. */
				if (piece_seen || i + 1 != n_ops)
					return unknown(fc, "the variable is split into pieces");
				piece_seen = true;
				break;
			default:
				return unknown(fc, "unsupported DWARF operation 0x%x", atom);
			}
		}
		if (atom == DW_OP_piece && !done) {
			NEED(1);
			loc = (struct location){ LOC_MEMORY, stack[sp - 1] };
			done = true;
		}
	}
#undef PUSH
#undef NEED
	if (!done) {
		if (sp == 0)
			return unknown(fc, "empty DWARF location");
		loc = (struct location){ LOC_MEMORY, stack[sp - 1] };
	}
	*ret = loc;
	return NULL;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

static bool is_variable_tag(int tag)
{
	return tag == DW_TAG_formal_parameter || tag == DW_TAG_variable;
}

/* A child variable or parameter of scope named name. */
static bool find_child(Dwarf_Die *scope, const char *name, Dwarf_Die *ret)
{
	Dwarf_Die child;
	if (dwarf_child(scope, &child) != 0)
		return false;
	do {
		if (!is_variable_tag(dwarf_tag(&child)))
			continue;
		const char *n = die_name(&child);
		if (n && !strcmp(n, name)) {
			*ret = child;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* The size of the variable's type if it is a scalar or pointer. */
static struct ac_error *scalar_size(struct frame_ctx *fc, Dwarf_Die *var,
				    const char *name, size_t *ret)
{
	Dwarf_Attribute attr;
	Dwarf_Die type;
	if (!dwarf_attr_integrate(var, DW_AT_type, &attr) ||
	    !dwarf_formref_die(&attr, &type))
		return unknown(fc, "%s has no type", name);
	if (dwarf_peel_type(&type, &type) != 0)
		return unknown(fc, "%s: cannot resolve its type", name);
	int tag = dwarf_tag(&type);
	Dwarf_Word size;
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_enumeration_type:
		if (dwarf_aggregate_size(&type, &size) != 0)
			return unknown(fc, "%s: type without a size", name);
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		size = ac_target_pointer_size(fc->prog->target);
		break;
	default:
		return ac_error_create(AC_ERR_USAGE, "%s is not a scalar or pointer", name);
	}
	if (size == 0 || size > 8)
		return ac_error_create(AC_ERR_USAGE, "%s: %u-byte scalar", name,
				       (unsigned)size);
	*ret = size;
	return NULL;
}

static uint64_t truncate_to(uint64_t v, size_t size)
{
	return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

static struct ac_error *read_variable(struct frame_ctx *fc, Dwarf_Die *var,
				      const char *name, uint64_t *ret)
{
	size_t size = 0;
	struct ac_error *err = scalar_size(fc, var, name, &size);
	if (err)
		return err;
	Dwarf_Attribute attr;
	if (dwarf_attr_integrate(var, DW_AT_const_value, &attr)) {
		Dwarf_Word u;
		Dwarf_Sword s;
		if (dwarf_formudata(&attr, &u) == 0) {
			*ret = truncate_to(u, size);
			return NULL;
		}
		if (dwarf_formsdata(&attr, &s) == 0) {
			*ret = truncate_to((uint64_t)s, size);
			return NULL;
		}
		return unknown(fc, "%s: unsupported DW_AT_const_value", name);
	}
	/* Not integrated: an abstract origin never has a location. */
	if (!dwarf_attr(var, DW_AT_location, &attr))
		return unknown(fc, "%s is optimized out (no location)", name);
	Dwarf_Op *ops;
	size_t n_ops;
	int n = dwarf_getlocation_addr(&attr, fc->lookup_pc - fc->bias, &ops, &n_ops, 1);
	if (n < 0)
		return unknown(fc, "%s: bad location: %s", name, dwarf_errmsg(-1));
	if (n == 0 || n_ops == 0)
		return unknown(fc, "%s is optimized out at 0x%" PRIx64, name,
			       concrete(fc)->pc);
	struct location loc;
	err = eval_ops(fc, &attr, ops, n_ops, &loc);
	if (err)
		return ac_error_prefix(err, "%s is optimized out", name);
	uint64_t v;
	switch (loc.kind) {
	case LOC_REGISTER:
		if (!reg_value(fc, loc.value, &v))
			return unknown(fc, "%s is optimized out: it lives in register %" PRIu64
				       ", not recoverable in this frame", name, loc.value);
		break;
	case LOC_VALUE:
		v = loc.value;
		break;
	case LOC_MEMORY:
	default:
		err = ac_target_read_uint(fc->prog->target, loc.value,
					  size == 3 || (size > 4 && size < 8) ? 8 : size, &v);
		if (err)
			return ac_error_prefix(err, "reading %s", name);
		break;
	}
	*ret = truncate_to(v, size);
	return NULL;
}

struct ac_error *ac_frame_variable_uint_bt(struct ac_program *prog,
					   const struct ac_backtrace *bt,
					   size_t frame_index, const char *name,
					   uint64_t *ret)
{
	if (!bt || frame_index >= bt->n_frames)
		return ac_error_create(AC_ERR_USAGE, "no frame #%zu", frame_index);
	struct frame_ctx fc;
	struct ac_error *err = frame_ctx_init(prog, bt, frame_index, 0, &fc);
	if (err)
		goto out;
	Dwarf_Die var;
	bool found = false;
	for (int i = fc.first_scope; i <= fc.func_scope && !found; i++)
		found = find_child(&fc.scopes[i], name, &var);
	if (!found) {
		/* Known to the source but dropped from this instance? */
		Dwarf_Attribute attr;
		Dwarf_Die origin;
		if (dwarf_attr(&fc.scopes[fc.func_scope], DW_AT_abstract_origin, &attr) &&
		    dwarf_formref_die(&attr, &origin) && find_child(&origin, name, &var))
			err = unknown(&fc, "%s is optimized out (not in this instance)", name);
		else
			err = unknown(&fc, "no parameter or variable %s", name);
		goto out;
	}
	err = read_variable(&fc, &var, name, ret);
out:
	frame_ctx_deinit(&fc);
	return err;
}

struct ac_error *ac_frame_variable_uint(struct ac_program *prog,
					size_t thread_index, size_t frame_index,
					const char *name, uint64_t *ret)
{
	if (thread_index >= ac_target_thread_count(prog->target))
		return ac_error_create(AC_ERR_USAGE, "no thread index %zu", thread_index);
	const struct ac_backtrace *bt = ac_program_backtrace(prog, thread_index);
	if (!bt)
		return ac_error_create(AC_ERR_LOOKUP, "thread %d: no backtrace",
				       ac_target_thread(prog->target, thread_index)->tid);
	return ac_frame_variable_uint_bt(prog, bt, frame_index, name, ret);
}

