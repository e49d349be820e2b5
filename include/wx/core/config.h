/*
 * wx/core/config.h - the one INI file every program of the suite reads
 * (inih), and the loader that checks it against tables of settings.
 *
 * The loader owns no section.  Each section is a struct of its owner (a
 * program, or the layer of libwx that uses it) described by a
 * wx_config_section_t: its settings with their types, bounds and defaults,
 * and a validator.  A program lists the sections it reads in a
 * wx_config_spec_t, each at an offset of its own config struct (which
 * begins with a wx_config_t), and the loader fills exactly those:
 *   - in a section the program reads, a key no table knows is an error
 *     (typos stop the program at start instead of being ignored);
 *   - a section the program does not read is skipped, keys and all, so a
 *     program validates only what it reads;
 *   - a section no program of the suite reads is an error (a typo in the
 *     section's name): wx_config_known_sections lists the names.
 * Several sections may share a name: a program may read part of a section
 * another program owns (WX_SECTION_PART: the keys it does not know are
 * left to that owner).  Secrets never come from argv: a setting marked
 * secret may be given in the file, as NAME_file (a file holding it, taken
 * relative to the config file) or, when it has one, in its environment
 * variable, which wins over both; secrets are zeroed when freed.  Errors
 * name the file, the line and the key.
 */
#ifndef WX_CONFIG_H
#define WX_CONFIG_H

#include <stddef.h>
#include "wx/core/err.h"
#include "wx/core/log.h"

typedef enum wx_conf_type {
    WX_CONF_STR,        /* char *, copied */
    WX_CONF_TEXT,       /* char *; indented continuation lines add "\n..." */
    WX_CONF_WORDS,      /* char *; indented continuation lines add " ..." */
    WX_CONF_UINT,       /* unsigned */
    WX_CONF_ULONG,      /* unsigned long */
    WX_CONF_SIZE,       /* size_t, with an optional k/K or m/M suffix */
    WX_CONF_OCTAL,      /* unsigned, written in octal */
    WX_CONF_LEVEL,      /* wx_log_level_t */
    WX_CONF_ENUM        /* an enum: the index of the value in 'names' */
} wx_conf_type_t;

/* One key of a section: where it goes in the section's struct, its bounds
 * (numbers) and its default, written as in the file (NULL: none). */
typedef struct wx_setting {
    const char         *name;
    wx_conf_type_t      type;
    size_t              off;
    unsigned long       min, max;
    const char         *def;
    int                 secret;     /* also NAME_file; zeroed when freed */
    const char         *env;        /* a secret's environment variable, or NULL */
    const char *const  *names;      /* WX_CONF_ENUM: the words, NULL-terminated */
} wx_setting_t;

#define WX_SETTING(name, type, off, min, max, def) \
    { (name), (type), (off), (min), (max), (def), 0, NULL, NULL }
#define WX_SECRET(name, off, env) \
    { (name), WX_CONF_STR, (off), 0, 0, NULL, 1, (env), NULL }
#define WX_ENUM(name, off, names, def) \
    { (name), WX_CONF_ENUM, (off), 0, 0, (def), 0, NULL, (names) }

typedef enum wx_section_kind {
    WX_SECTION_ONE,     /* [name]: one struct */
    WX_SECTION_PART,    /* [name], of which this program reads some keys */
    WX_SECTION_NAMED,   /* [nameNAME] (name ends in '.'): a wx_conf_list_t of
                         * structs whose first member is 'char *name' */
    WX_SECTION_PAIRS,   /* [name] KEY = text: a wx_conf_list_t of wx_conf_pair_t */
    WX_SECTION_NAMED_PART   /* NAMED, of which this program reads some keys
                             * (the AppID of each [account.NAME], not its
                             * AppSecret) */
} wx_section_kind_t;

/* NAMED and NAMED_PART: a list of items. */
#define WX_SECTION_IS_NAMED(k)  ((k) == WX_SECTION_NAMED || (k) == WX_SECTION_NAMED_PART)

typedef struct wx_config_section {
    const char             *name;
    wx_section_kind_t       kind;
    const wx_setting_t     *settings;
    size_t                  n_settings;     /* at most WX_CONF_MAX_SETTINGS */
    size_t                  size;           /* of one struct (NAMED) */
    size_t                  max;            /* NAMED, PAIRS: how many at most */
    /* Check one filled struct (the section's or one NAMED item); 0, or -1
     * with 'err' set (the loader adds the file's name).  NULL: none. */
    int                   (*validate)(void *sec, char *err, size_t errlen);
} wx_config_section_t;

#define WX_CONF_MAX_SETTINGS    32
#define WX_CONF_N(table)        (sizeof(table) / sizeof((table)[0]))

typedef struct wx_conf_list {
    void       *v;          /* 'max' structs, the first 'n' used */
    size_t      n;
} wx_conf_list_t;

typedef struct wx_conf_pair {
    char       *name;       /* the KEY of KEY = text */
    char       *text;
} wx_conf_pair_t;

/* The head of every program's config struct. */
typedef struct wx_config {
    char                            *path;  /* the file, for reloads */
    const struct wx_config_spec     *spec;
} wx_config_t;

/* A section a program reads, and where its struct (or list) lives in the
 * program's config struct. */
typedef struct wx_config_use {
    const wx_config_section_t  *section;
    size_t                      off;
} wx_config_use_t;

typedef struct wx_config_spec {
    const char             *program;
    size_t                  size;       /* the program's struct */
    const wx_config_use_t  *uses;
    size_t                  n_uses;
    /* Checks across sections, after the sections' own; or NULL. */
    int                   (*validate)(const wx_config_t *cfg, char *err, size_t errlen);
} wx_config_spec_t;

/* Every section name of the suite ("wxproxy.key." for [wxproxy.key.*]):
 * one no program reads is still no typo. */
extern const char *const wx_config_known_sections[];

/* Load 'path' into a new struct of spec->size bytes (defaults applied,
 * every section validated).  NULL on failure with 'err' naming the file,
 * line and key; nothing is left to free. */
wx_config_t *wx_config_load(const wx_config_spec_t *spec, const char *path,
                            char *err, size_t errlen);

/* What changed from 'old' to 'cur' (two loads of one spec): "[wxfcgi]
 * workers, [wx] token, [wxproxy.key.]", names only (never a value: secrets
 * are keys too), or "nothing".  Written into 'out', which is returned. */
const char *wx_config_diff(const wx_config_t *old, const wx_config_t *cur, char *out,
                           size_t len);

/* Free a loaded config and every string in it (secrets zeroed first);
 * NULL is allowed. */
void wx_config_free(wx_config_t *cfg);

#endif
