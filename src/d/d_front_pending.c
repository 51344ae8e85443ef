/*
 * Built only while the tree lacks the D front end (see d_driver.h): every
 * script is refused in one line, and nothing else can be reached. Delete
 * with d_front_pending.h once the front end is merged.
 */
#include "d_driver.h"

#include <errno.h>
#include <stdio.h>

int pyprobe__d_parse(const char *file, const char *source, size_t length, struct pyprobe__d_program **out,
                     struct pyprobe__d_error *error)
{
    (void)source;
    (void)length;
    *out = NULL;
    *error = (struct pyprobe__d_error){0};
    snprintf(error->file, sizeof error->file, "%s", file);
    snprintf(error->message, sizeof error->message, "this pyprobe was built without its D front end");
    return -ENOSYS;
}

int pyprobe__d_program_append(struct pyprobe__d_program *program, const char *file, const char *source,
                              size_t length, struct pyprobe__d_error *error)
{
    (void)program;
    return pyprobe__d_parse(file, source, length, &program, error);
}

void pyprobe__d_program_free(struct pyprobe__d_program *program)
{
    (void)program;
}

size_t pyprobe__d_pragma_count(const struct pyprobe__d_program *program)
{
    (void)program;
    return 0;
}

const struct pyprobe__d_pragma *pyprobe__d_pragma_at(const struct pyprobe__d_program *program, size_t index)
{
    (void)program;
    (void)index;
    return NULL;
}

int pyprobe__d_option_set(struct pyprobe__d_translate_options *options, const char *name, const char *value,
                          struct pyprobe__d_error *error)
{
    (void)options;
    (void)value;
    *error = (struct pyprobe__d_error){0};
    snprintf(error->message, sizeof error->message, "%s: this pyprobe was built without its D front end", name);
    return -ENOSYS;
}

int pyprobe__d_program_bind(struct pyprobe__d_program *program, const struct pyprobe__d_translate_options *options,
                            struct pyprobe__d_error *error)
{
    (void)program;
    (void)options;
    (void)error;
    return -ENOSYS;
}

size_t pyprobe__d_description_count(const struct pyprobe__d_program *program)
{
    (void)program;
    return 0;
}

const struct pyprobe__d_description *pyprobe__d_description_at(const struct pyprobe__d_program *program,
                                                               size_t index)
{
    (void)program;
    (void)index;
    return NULL;
}

int pyprobe__d_translate(struct pyprobe__d_program *program, const struct pyprobe__d_resolved *resolved,
                         size_t resolved_count, const struct pyprobe__d_translate_options *options,
                         struct pyprobe__d_plan **out, struct pyprobe__d_error *error)
{
    (void)program;
    (void)resolved;
    (void)resolved_count;
    (void)options;
    (void)error;
    *out = NULL;
    return -ENOSYS;
}

void pyprobe__d_plan_free(struct pyprobe__d_plan *plan)
{
    (void)plan;
}
