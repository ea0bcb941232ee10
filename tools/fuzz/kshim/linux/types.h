#include_next <linux/types.h>
#include "../kshim.h"
