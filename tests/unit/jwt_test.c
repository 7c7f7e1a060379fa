/* jwt_test.c - unit tests of gateway/jwt.c (being written for issue 16) */
#include "t.h"
#include "jwt.h"

int main(void)
{
    return t_finish();
}
