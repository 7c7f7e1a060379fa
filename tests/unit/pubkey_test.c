/* pubkey_test.c - unit tests of gateway/pubkey.c (being written for issue 16) */
#include "t.h"
#include "pubkey.h"

int main(void)
{
    return t_finish();
}
