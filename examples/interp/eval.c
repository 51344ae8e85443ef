/*
 * eval.c - the tree-walking evaluator, and the probes of running code:
 * function__entry and function__return around every pint function, method
 * and module top level; line before every statement; instance__new__start
 * and instance__new__done around creating an instance.
 */
#include "eval.h"

#include <limits.h>
#include <pyprobe.h>
#include <string.h>

#include "gc.h"
#include "modules.h"

/* How a statement ended: on to the next one, or out of the function. */
typedef enum { FLOW_NEXT, FLOW_RETURN } Flow;

typedef struct Frame Frame;
struct Frame {
    Frame *caller;
    ObjModule *module;      /* its globals, and its file for errors and probes */
    ObjFunction *function;  /* NULL at a module's top level */
    Table locals;           /* a function's variables (top level: module globals) */
    Value result;           /* set by `return` */
};

static Frame *frame;  /* the innermost frame */

static Value eval(const Node *node);
static Flow exec_block(const Node *statements);

ObjModule *current_module(void)
{
    return frame->module;
}

void runtime_error(int line, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vfail_at(frame->module->path, line, fmt, args);
}

void eval_mark_roots(void)
{
    for (const Frame *f = frame; f; f = f->caller) {
        for (int i = 0; i < f->locals.count; i++)
            gc_mark_value(f->locals.entries[i].value);
        gc_mark_value(f->result);
        /* A running function stays alive even if nothing else refers to it. */
        if (f->function)
            gc_mark_value(OBJ_VALUE(f->function));
        gc_mark_value(OBJ_VALUE(f->module));
    }
}

/* ---- the probes of running code ---- */

/* The probes' names for running code: "<module>" at top level, as CPython. */
static const char *code_name(const Frame *f)
{
    return f->function ? function_qualname(f->function) : heap_name("<module>");
}

static int code_first_line(const Frame *f)
{
    return f->function ? f->function->def->line : 1;
}

/* The guards stay in the hot functions and cost a load, a compare and a
 * branch; everything a probe's arguments need (code_name() may build
 * "Class.method" or copy "<module>" to the heap) lives in these cold,
 * never-inlined functions, so that it does not make the hot ones bigger and
 * change what the compiler inlines into them. */
#define PROBE_SLOW_PATH __attribute__((noinline, cold))

static PROBE_SLOW_PATH void fire_entry(const Frame *f)
{
    PYPROBE_FUNCTION_ENTRY(f->module->path, code_name(f), code_first_line(f));
}

static PROBE_SLOW_PATH void fire_return(const Frame *f)
{
    PYPROBE_FUNCTION_RETURN(f->module->path, code_name(f), code_first_line(f));
}

static PROBE_SLOW_PATH void fire_line(const Frame *f, int line)
{
    PYPROBE_LINE(f->module->path, code_name(f), line);
}

static inline void probe_entry(const Frame *f)
{
    if (PYPROBE_FUNCTION_ENTRY_ENABLED())
        fire_entry(f);
}

static inline void probe_return(const Frame *f)
{
    if (PYPROBE_FUNCTION_RETURN_ENABLED())
        fire_return(f);
}

static inline void probe_line(const Frame *f, int line)
{
    if (PYPROBE_LINE_ENABLED())
        fire_line(f, line);
}

/* ---- variables ---- */

static Value lookup(const char *name, int line)
{
    Value value;
    const Builtin *builtin;

    if (frame->function && table_get(&frame->locals, name, &value))
        return value;
    if (table_get(&frame->module->globals, name, &value))
        return value;
    if ((builtin = find_builtin(name)))
        return BUILTIN_VALUE(builtin);
    runtime_error(line, "name '%s' is not defined", name);
}

/* Inside a function a name is local; at top level it is the module's. */
static void assign(const char *name, Value value)
{
    if (frame->function)
        table_set(&frame->locals, name, value);
    else
        gc_table_set(&frame->module->obj, &frame->module->globals, name, value);
}

/* ---- calls ---- */

/* Runs code in a new frame, between the entry and return probes. */
static inline Value run_frame(Frame *f, const Node *body)
{
    frame = f;
    probe_entry(f);
    exec_block(body);
    probe_return(f);
    frame = f->caller;
    table_free(&f->locals);
    return f->result;
}

static Value call_function(ObjFunction *function, Value self, int argc, int args, int line)
{
    const Node *def = function->def;
    Frame callee = {.caller = frame, .module = function->module, .function = function,
                    .result = NIL_VALUE};

    if (argc != def->value) {
        runtime_error(line, "%s() takes %lld argument%s, got %d", function_qualname(function),
                      def->value, def->value == 1 ? "" : "s", argc);
    }
    if (function->klass)
        table_set(&callee.locals, "self", self);
    for (const Node *param = def->a; param; param = param->next)
        table_set(&callee.locals, param->name, gc_root(args++));
    return run_frame(&callee, def->body);
}

/* Calling a class makes an instance and runs its init method, if any.
 * The probes' arguments are plain field loads: the bare macros suffice. */
static Value instantiate(ObjClass *klass, int argc, int args, int line)
{
    Value init;

    PYPROBE_INSTANCE_NEW_START(klass->name, klass->module->path);
    /* Rooted here: init may assign something else to its `self`. */
    int self = gc_push_root(OBJ_VALUE(new_instance(klass)));
    if (table_get(&klass->methods, "init", &init))
        call_function(AS_FUNCTION(init), gc_root(self), argc, args, line);
    else if (argc > 0)
        runtime_error(line, "%s() takes no arguments (it has no init method)", klass->name);
    PYPROBE_INSTANCE_NEW_DONE(klass->name, klass->module->path);
    Value instance = gc_root(self);
    gc_pop_roots_to(self);
    return instance;
}

static Value call_builtin(const Builtin *builtin, int argc, int args, int line)
{
    if (argc < builtin->min_args || (builtin->max_args >= 0 && argc > builtin->max_args))
        runtime_error(line, "%s() takes %d argument%s, got %d", builtin->name, builtin->min_args,
                      builtin->min_args == 1 ? "" : "s", argc);
    return builtin->function(argc, gc_roots_from(args), line);
}

Value call_value(Value callee, int argc, int args, int line)
{
    if (callee.type == VAL_BUILTIN)
        return call_builtin(callee.as.builtin, argc, args, line);
    if (is_obj_type(callee, OBJ_FUNCTION))
        return call_function(AS_FUNCTION(callee), NIL_VALUE, argc, args, line);
    if (is_obj_type(callee, OBJ_METHOD))
        return call_function(AS_METHOD(callee)->function, AS_METHOD(callee)->self, argc, args, line);
    if (is_obj_type(callee, OBJ_CLASS))
        return instantiate(AS_CLASS(callee), argc, args, line);
    runtime_error(line, "%s is not callable", type_name(callee));
}

/* ---- expressions ---- */

static long long arithmetic(TokenKind op, long long a, long long b, int line)
{
    long long result = 0;
    bool overflow = false;

    switch (op) {
    case TOK_PLUS: overflow = __builtin_add_overflow(a, b, &result); break;
    case TOK_MINUS: overflow = __builtin_sub_overflow(a, b, &result); break;
    case TOK_STAR: overflow = __builtin_mul_overflow(a, b, &result); break;
    case TOK_SLASH:
    case TOK_PERCENT:
        if (b == 0)
            runtime_error(line, "division by zero");
        if (b == -1)  /* LLONG_MIN / -1 does not fit; LLONG_MIN % -1 is undefined in C */
            overflow = op == TOK_SLASH && __builtin_sub_overflow(0, a, &result);
        else
            result = op == TOK_SLASH ? a / b : a % b;
        break;
    case TOK_LT: result = a < b; break;
    case TOK_LE: result = a <= b; break;
    case TOK_GT: result = a > b; break;
    case TOK_GE: result = a >= b; break;
    default: break;
    }
    if (overflow)
        runtime_error(line, "integer overflow");
    return result;
}

static Value concatenate(ObjString *a, ObjString *b)
{
    ObjString *result = allocate_string(a->length + b->length);

    memcpy(result->chars, a->chars, a->length);
    memcpy(result->chars + a->length, b->chars, b->length);
    return OBJ_VALUE(result);
}

static Value binary_operation(TokenKind op, Value left, Value right, int line)
{
    if (op == TOK_EQ || op == TOK_NE)
        return INT_VALUE(values_equal(left, right) == (op == TOK_EQ));
    if (op == TOK_PLUS && is_obj_type(left, OBJ_STRING) && is_obj_type(right, OBJ_STRING))
        return concatenate(AS_STRING(left), AS_STRING(right));
    if (left.type != VAL_INT || right.type != VAL_INT)
        runtime_error(line, "cannot apply %s to %s and %s", token_kind_text(op),
                      type_name(left), type_name(right));
    return INT_VALUE(arithmetic(op, left.as.integer, right.as.integer, line));
}

static Value eval_binary(const Node *node)
{
    int left = gc_push_root(eval(node->a));  /* it must survive evaluating the right */
    Value right = eval(node->b);
    Value result = binary_operation(node->op, gc_root(left), right, node->line);

    gc_pop_roots_to(left);
    return result;
}

static Value eval_unary(const Node *node)
{
    Value operand = eval(node->a);

    if (node->op == TOK_NOT)
        return INT_VALUE(!is_truthy(operand));
    if (operand.type != VAL_INT)
        runtime_error(node->line, "cannot negate %s", type_name(operand));
    if (operand.as.integer == LLONG_MIN)
        runtime_error(node->line, "integer overflow");
    return INT_VALUE(-operand.as.integer);
}

static Value eval_call(const Node *node)
{
    /* The callee and each argument stay on the root stack until the call
     * returns: evaluating the next argument may collect. */
    int callee = gc_push_root(eval(node->a)), argc = 0;

    for (const Node *arg = node->body; arg; arg = arg->next, argc++)
        gc_push_root(eval(arg));
    Value result = call_value(gc_root(callee), argc, callee + 1, node->line);
    gc_pop_roots_to(callee);
    return result;
}

/* obj.name: an instance's field, else its class's method bound to it; or a
 * module's global. */
static Value get_field(Value object, const char *name, int line)
{
    Value value;

    if (is_obj_type(object, OBJ_INSTANCE)) {
        ObjInstance *instance = AS_INSTANCE(object);
        if (table_get(&instance->fields, name, &value))
            return value;
        if (table_get(&instance->klass->methods, name, &value))
            return OBJ_VALUE(new_method(object, AS_FUNCTION(value)));
        runtime_error(line, "%s instance has no field '%s'", instance->klass->name, name);
    }
    if (is_obj_type(object, OBJ_MODULE)) {
        if (table_get(&AS_MODULE(object)->globals, name, &value))
            return value;
        runtime_error(line, "module '%s' has no name '%s'", AS_MODULE(object)->name, name);
    }
    runtime_error(line, "%s has no fields (reading '%s')", type_name(object), name);
}

/* A string literal is one object, made the first time it runs and kept by
 * its module, as CPython keeps a code object's constants: running a literal
 * again allocates nothing. */
static Value string_literal(const Node *node)
{
    ObjModule *module = frame->module;
    Value string;

    if (!table_get(&module->constants, node->name, &string)) {
        string = OBJ_VALUE(new_string(node->name, strlen(node->name)));
        gc_table_set(&module->obj, &module->constants, node->name, string);
    }
    return string;
}

static Value eval(const Node *node)
{
    if (stack_exhausted())
        runtime_error(node->line, "recursion too deep");
    switch (node->kind) {
    case N_INT:
        return INT_VALUE(node->value);
    case N_STRING:
        return string_literal(node);
    case N_NIL:
        return NIL_VALUE;
    case N_NAME:
        return lookup(node->name, node->line);
    case N_UNARY:
        return eval_unary(node);
    case N_BINARY:
        return eval_binary(node);
    case N_AND: {
        Value left = eval(node->a);
        return is_truthy(left) ? eval(node->b) : left;
    }
    case N_OR: {
        Value left = eval(node->a);
        return is_truthy(left) ? left : eval(node->b);
    }
    case N_CALL:
        return eval_call(node);
    case N_GET:
        return get_field(eval(node->a), node->name, node->line);
    default:
        runtime_error(node->line, "internal error: statement evaluated as an expression");
    }
}

/* ---- statements ---- */

static void exec_set_field(const Node *node)
{
    int object = gc_push_root(eval(node->a));  /* it must survive evaluating the value */
    Value value = eval(node->b), target = gc_root(object);

    gc_pop_roots_to(object);
    if (!is_obj_type(target, OBJ_INSTANCE))
        runtime_error(node->line, "cannot set field '%s' on %s", node->name, type_name(target));
    gc_table_set(target.as.obj, &AS_INSTANCE(target)->fields, node->name, value);
}

static ObjClass *define_class(const Node *node)
{
    ObjClass *klass = new_class(node->name, frame->module);

    for (const Node *def = node->body; def; def = def->next) {
        Value method = OBJ_VALUE(new_function(def, frame->module, klass));
        gc_table_set(&klass->obj, &klass->methods, def->name, method);
    }
    return klass;
}

/* Where each statement starts, and where a loop goes back to its condition:
 * the line probe, and the collector's safe point. */
static void begin_line(int line)
{
    probe_line(frame, line);  /* first: `line` need not outlive the call below */
    gc_safe_point();
}

static Flow exec_while(const Node *node)
{
    while (is_truthy(eval(node->a))) {
        if (exec_block(node->body) == FLOW_RETURN)
            return FLOW_RETURN;
        begin_line(node->line);  /* the condition's line runs again, as in CPython */
    }
    return FLOW_NEXT;
}

static Flow exec(const Node *node)
{
    begin_line(node->line);
    switch (node->kind) {
    case N_EXPR:
        eval(node->a);
        return FLOW_NEXT;
    case N_ASSIGN:
        assign(node->name, eval(node->a));
        return FLOW_NEXT;
    case N_SET:
        exec_set_field(node);
        return FLOW_NEXT;
    case N_IF:
        return exec_block(is_truthy(eval(node->a)) ? node->body : node->orelse);
    case N_WHILE:
        return exec_while(node);
    case N_RETURN:
        frame->result = node->a ? eval(node->a) : NIL_VALUE;
        return FLOW_RETURN;
    case N_FUNC:
        assign(node->name, OBJ_VALUE(new_function(node, frame->module, NULL)));
        return FLOW_NEXT;
    case N_CLASS:
        assign(node->name, OBJ_VALUE(define_class(node)));
        return FLOW_NEXT;
    case N_IMPORT:
        assign(node->name, OBJ_VALUE(import_module(node->name, frame->module, node->line)));
        return FLOW_NEXT;
    default:
        runtime_error(node->line, "internal error: expression executed as a statement");
    }
}

static Flow exec_block(const Node *statements)
{
    for (const Node *node = statements; node; node = node->next) {
        if (exec(node) == FLOW_RETURN)
            return FLOW_RETURN;
    }
    return FLOW_NEXT;
}

void eval_module(ObjModule *module, const Node *statements)
{
    Frame top = {.caller = frame, .module = module, .result = NIL_VALUE};

    run_frame(&top, statements);
}
