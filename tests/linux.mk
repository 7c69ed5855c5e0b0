# Real Linux tests (../shared/guest).
