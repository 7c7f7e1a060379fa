/* fwd_test.c - unit tests of gateway/fwd.c (being written for issue 16) */
#include "t.h"
#include "fwd.h"

int main(void)
{
    return t_finish();
}
