/**
 * @file test_cc_files.c
 * @brief Unit tests: files beneath a tenant's directory (shared/cc_files.c): path
 *        checks, audio formats and media types, and opening beneath a directory without
 *        following links, by openat2 and by the walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cc_test_rules.h"
#include "cc_files.h"

typedef struct path_case_t {
    const char *path;
    int ok;
    int nparts;
} path_case_t;

static const path_case_t path_cases[] = {
    { "a.wav", 1, 1 },
    { "2026/11/24/out-100-200-1732428000.42.wav", 1, 4 },
    { "..x/x..", 1, 2 },
    { "../x", 0, 0 },
    { "a/../../x", 0, 0 },
    { "a/..", 0, 0 },
    { "./a", 0, 0 },
    { "/etc/passwd", 0, 0 },
    { "a//b", 0, 0 },
    { "a/", 0, 0 },
    { "", 0, 0 },
    { "a\nb", 0, 0 },
    { "a\x01" "b", 0, 0 },
    { "a\x7f" "b", 0, 0 },
};

START_TEST(paths_are_split_or_refused)
{
    const path_case_t *c = &path_cases[_i];
    apr_array_header_t *parts;
    const char *issue = cc_files_path_split(cc_test_pool, c->path, &parts);

    ck_assert_msg(c->ok ? !issue : issue != NULL, "%s: %s", c->path, issue ? issue : "ok");
    if (c->ok) {
        ck_assert_int_eq(parts->nelts, c->nparts);
    }
}
END_TEST

START_TEST(long_and_deep_paths_are_refused)
{
    apr_array_header_t *parts;
    char comp[300], deep[200];
    int i;

    memset(comp, 'a', sizeof(comp) - 1);
    comp[sizeof(comp) - 1] = '\0';
    ck_assert_ptr_nonnull(cc_files_path_split(cc_test_pool, comp, &parts));
    comp[255] = '\0';
    ck_assert_ptr_null(cc_files_path_split(cc_test_pool, comp, &parts));
    for (i = 0; i < 33; i++) {
        deep[2 * i] = 'd';
        deep[2 * i + 1] = '/';
    }
    deep[65] = '\0';   /* 33 components */
    ck_assert_ptr_nonnull(cc_files_path_split(cc_test_pool, deep, &parts));
    deep[63] = '\0';   /* 32 */
    ck_assert_ptr_null(cc_files_path_split(cc_test_pool, deep, &parts));
}
END_TEST

START_TEST(formats_have_their_media_types)
{
    ck_assert_str_eq(cc_audio_content_type("wav"), "audio/wav");
    ck_assert_str_eq(cc_audio_content_type("wav49"), "audio/wav");
    ck_assert_str_eq(cc_audio_content_type("gsm"), "audio/x-gsm");
    ck_assert_str_eq(cc_audio_content_type("mp3"), "audio/mpeg");
    ck_assert_str_eq(cc_audio_content_type("ogg"), "audio/ogg");
    ck_assert_ptr_null(cc_audio_content_type("flac"));
    ck_assert_ptr_null(cc_audio_content_type(NULL));
}
END_TEST

/* ---- opening beneath a directory ---- */

static char tree[64];

/* tree/tenant/{a.wav, sub/b.wav, fifo, dir/, in -> a.wav, out -> /etc/hostname,
 * subln -> sub, up -> ..}, tree/secret */
static int make_tree(void)
{
    char p[256];
    int fd;

    strcpy(tree, "/tmp/cc-files-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tree));
#define AT(rel) (snprintf(p, sizeof(p), "%s/%s", tree, rel), p)
    ck_assert_int_eq(mkdir(AT("tenant"), 0755), 0);
    ck_assert_int_eq(mkdir(AT("tenant/sub"), 0755), 0);
    ck_assert_int_eq(mkdir(AT("tenant/dir"), 0755), 0);
    ck_assert_int_ge(fd = open(AT("tenant/a.wav"), O_CREAT | O_WRONLY, 0644), 0);
    close(fd);
    ck_assert_int_ge(fd = open(AT("tenant/sub/b.wav"), O_CREAT | O_WRONLY, 0644), 0);
    close(fd);
    ck_assert_int_ge(fd = open(AT("secret"), O_CREAT | O_WRONLY, 0644), 0);
    close(fd);
    ck_assert_int_eq(mkfifo(AT("tenant/fifo"), 0644), 0);
    ck_assert_int_eq(symlink("a.wav", AT("tenant/in")), 0);
    ck_assert_int_eq(symlink("../secret", AT("tenant/out")), 0);
    ck_assert_int_eq(symlink("sub", AT("tenant/subln")), 0);
    ck_assert_int_eq(symlink("..", AT("tenant/up")), 0);
    fd = open(AT("tenant"), O_RDONLY | O_DIRECTORY);
#undef AT
    ck_assert_int_ge(fd, 0);
    return fd;
}

static void drop_tree(int fd)
{
    char cmd[128];

    close(fd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    ck_assert_int_eq(system(cmd), 0);
}

/* errno of opening path as a file (0: opened). */
static int open_errno(int dirfd, const char *path, int resolve)
{
    apr_array_header_t *parts;
    int fd;

    ck_assert_ptr_null(cc_files_path_split(cc_test_pool, path, &parts));
    fd = cc_files_open_beneath(dirfd, parts, parts->nelts, 0, resolve);
    if (fd < 0) {
        return errno;
    }
    close(fd);
    return 0;
}

typedef struct open_case_t {
    const char *path;
    int refused;   /* 0: opens; 1: refused with a client issue */
} open_case_t;

static const open_case_t open_cases[] = {
    { "a.wav", 0 },
    { "sub/b.wav", 0 },
    { "fifo", 0 },            /* opens without blocking; fstat tells it is no file */
    { "dir", 0 },
    { "in", 1 },              /* a link, even one that stays inside */
    { "out", 1 },
    { "subln/b.wav", 1 },
    { "up/secret", 1 },
    { "missing.wav", 1 },
    { "a.wav/x", 1 },
};

START_TEST(links_are_never_followed_by_either_resolver)
{
    const open_case_t *c = &open_cases[_i];
    int dirfd = make_tree(), resolve;

    for (resolve = CC_FILES_RESOLVE_AUTO; resolve <= CC_FILES_RESOLVE_WALK; resolve++) {
        int e = open_errno(dirfd, c->path, resolve);

        ck_assert_msg(c->refused ? e != 0 && cc_files_open_issue(e) != NULL : e == 0,
                      "%s (resolver %d): errno %d", c->path, resolve, e);
    }
    drop_tree(dirfd);
}
END_TEST

START_TEST(the_parent_of_a_path_opens_as_a_directory)
{
    int dirfd = make_tree(), fd;
    apr_array_header_t *parts;
    struct stat st;

    ck_assert_ptr_null(cc_files_path_split(cc_test_pool, "sub/b.wav", &parts));
    fd = cc_files_open_beneath(dirfd, parts, 1, 1, CC_FILES_RESOLVE_WALK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(unlinkat(fd, "b.wav", 0), 0);
    close(fd);
    ck_assert_int_ne(fstatat(dirfd, "sub/b.wav", &st, 0), 0);
    fd = cc_files_open_beneath(dirfd, parts, 0, 1, CC_FILES_RESOLVE_AUTO);   /* dirfd itself */
    ck_assert_int_ge(fd, 0);
    close(fd);
    drop_tree(dirfd);
}
END_TEST

CC_TEST_SUITE("cc_files",
    CC_TCASE("paths"),
        CC_LOOP_TEST(paths_are_split_or_refused, N(path_cases)),
        CC_TEST(long_and_deep_paths_are_refused),
    CC_TCASE("formats"),
        CC_TEST(formats_have_their_media_types),
    CC_TCASE("open"),
        CC_LOOP_TEST(links_are_never_followed_by_either_resolver, N(open_cases)),
        CC_TEST(the_parent_of_a_path_opens_as_a_directory))
