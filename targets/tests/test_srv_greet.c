/* Integration test: tcp-greet over a real socket. */
#include "itest.h"
#include "tcp-greet/greet.h"

static void greets_then_closes(void **state)
{
    struct itest_srv s;
    char buf[16];
    int fd, base;

    (void)state;
    itest_start(&s, "tcp-greet", NULL);
    base = itest_fd_count(&s);
    for (int i = 0; i < 3; i++) {
        fd = itest_connect(&s);
        itest_read_exact(fd, buf, 9, 2000);
        assert_memory_equal(buf, "Welcome!\n", 9);
        itest_expect_eof(fd, 2000);
        close(fd);
    }
    assert_int_equal(itest_fd_settle(&s, base, 1000), base);
    itest_stop(&s);
}

static void custom_utf8_message(void **state)
{
    static const char msg[] = "欢迎访问菜鸟教程！";
    struct itest_srv s;
    char buf[64];
    int fd;

    (void)state;
    itest_start(&s, "tcp-greet", "--message", msg, NULL);
    fd = itest_connect(&s);
    itest_read_exact(fd, buf, sizeof(msg), 2000);
    assert_memory_equal(buf, msg, sizeof(msg) - 1);
    assert_int_equal(buf[sizeof(msg) - 1], '\n');
    itest_expect_eof(fd, 2000);
    close(fd);
    itest_stop(&s);
}

static void validate_rejects_bad_lines(void **state)
{
    size_t bad = 0;

    (void)state;
    assert_int_equal(greet_validate((const uint8_t *)"ok", 2, &bad), 0);
    assert_int_equal(greet_validate((const uint8_t *)"a\nb", 3, &bad), -1);
    assert_int_equal(bad, 1);
    assert_int_equal(greet_validate((const uint8_t *)"\xc0\xaf", 2, &bad), -1); /* overlong */
    assert_int_equal(greet_validate((const uint8_t *)"ab\xed\xa0\x80", 5, &bad), -1); /* surrogate */
    assert_int_equal(bad, 2);
    assert_int_equal(greet_validate((const uint8_t *)"\xe4\xbd", 2, &bad), -1); /* truncated */
    assert_int_equal(greet_validate((const uint8_t *)"\xf0\x9f\x98\x80", 4, &bad), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(greets_then_closes),
        cmocka_unit_test(custom_utf8_message),
        cmocka_unit_test(validate_rejects_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
