/* form_test.c - unit tests of gateway/form.c (being written for issue 16) */
#include "t.h"
#include "form.h"

int main(void)
{
    return t_finish();
}
