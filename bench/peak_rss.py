"""Peak resident memory of this process's own image, for `sigprop bench`.

VmHWM of /proc/self/status: the high-water mark of the memory map that exec created, so unlike
wait4's ru_maxrss it never includes the parent's pages that the child inherited before exec.
"""


def peak_rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    return float("nan")
