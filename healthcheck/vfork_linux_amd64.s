#include "textflag.h"

// Offsets of the fields of vforkReq (vfork_linux_amd64.go); a test checks
// them against unsafe.Offsetof.
#define REQ_PATH 0
#define REQ_ARGV 8
#define REQ_ENVV 16
#define REQ_DIR 24
#define REQ_STDIN 32
#define REQ_STDOUT 40
#define REQ_SETPGID 48
#define REQ_SETCRED 56
#define REQ_NGROUPS 64
#define REQ_GROUPS 72
#define REQ_GID 80
#define REQ_UID 88
#define REQ_FULL 96
#define REQ_OLD 104
#define REQ_CLONE 112
#define REQ_DFL 120
#define REQ_QUERY 128
#define REQ_ERRNO 136
#define REQ_NOFILE 144

#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_dup2 33
#define SYS_exit 60
#define SYS_chdir 80
#define SYS_setuid 105
#define SYS_setgid 106
#define SYS_setpgid 109
#define SYS_setgroups 116
#define SYS_execve 59
#define SYS_clone3 435
#define SYS_prlimit64 302
#define RLIMIT_NOFILE 7

#define SIG_SETMASK 2
#define CLONE_ARGS_SIZE 64

// A system call result above this, as unsigned, is -errno.
#define ERRMAX $0xfffffffffffff001

// In the child: on error (AX holds -errno), record it and exit.
#define CHECK CMPQ AX, ERRMAX; JHI fail

// Restores the signal mask saved in r.old.
#define RESTORE_MASK MOVQ $SYS_rt_sigprocmask, AX; MOVQ $SIG_SETMASK, DI; MOVQ REQ_OLD(R12), SI; MOVQ $0, DX; MOVQ $8, R10; SYSCALL

// func vforkExec(r *vforkReq) (pid uintptr, errno uintptr)
//
// vforkExec blocks every signal on the calling thread, then clones with
// CLONE_VM|CLONE_VFORK|CLONE_PIDFD (r.clone), and restores the signal mask.
// The child runs in the caller's memory while the caller is suspended, and
// only makes system calls, from registers, without touching the stack:
// each signal Go handles back to its default, setpgid, setgroups, setgid,
// setuid, chdir, the open-files limit, the standard descriptors, the
// signal mask, execve. A
// failing step leaves its errno in r and exits with status 127.
// The caller resumes once the child has called execve or exited.
TEXT ·vforkExec(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	r+0(FP), R12

	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	MOVQ	REQ_FULL(R12), SI
	MOVQ	REQ_OLD(R12), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, ERRMAX
	JHI	error

	MOVQ	$SYS_clone3, AX
	MOVQ	REQ_CLONE(R12), DI
	MOVQ	$CLONE_ARGS_SIZE, SI
	SYSCALL
	CMPQ	AX, $0
	JEQ	child

	// The parent, once the child has exec'd or exited; or clone3 failed.
	MOVQ	AX, R13
	RESTORE_MASK
	MOVQ	R13, AX
	CMPQ	AX, ERRMAX
	JHI	error
	MOVQ	AX, pid+8(FP)
	MOVQ	$0, errno+16(FP)
	RET

error:
	NEGQ	AX
	MOVQ	$0, pid+8(FP)
	MOVQ	AX, errno+16(FP)
	RET

child:
	// Signals 1-64 whose handler is Go's go back to their default, so
	// that none runs in this child between the mask's restore and execve;
	// ignored ones stay ignored, as execve keeps them.
	MOVQ	$1, BX
sigloop:
	MOVQ	$SYS_rt_sigaction, AX
	MOVQ	BX, DI
	MOVQ	$0, SI
	MOVQ	REQ_QUERY(R12), DX
	MOVQ	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JNE	signext
	MOVQ	REQ_QUERY(R12), R13
	MOVQ	0(R13), R13
	CMPQ	R13, $1 // SIG_DFL 0, SIG_IGN 1
	JLS	signext
	MOVQ	$SYS_rt_sigaction, AX
	MOVQ	BX, DI
	MOVQ	REQ_DFL(R12), SI
	MOVQ	$0, DX
	MOVQ	$8, R10
	SYSCALL
signext:
	INCQ	BX
	CMPQ	BX, $64
	JLS	sigloop

	CMPQ	REQ_SETPGID(R12), $0
	JEQ	nopgid
	MOVQ	$SYS_setpgid, AX
	MOVQ	$0, DI
	MOVQ	$0, SI
	SYSCALL
	CHECK
nopgid:
	CMPQ	REQ_SETCRED(R12), $0
	JEQ	nocred
	CMPQ	REQ_NGROUPS(R12), $-1
	JEQ	nogroups
	MOVQ	$SYS_setgroups, AX
	MOVQ	REQ_NGROUPS(R12), DI
	MOVQ	REQ_GROUPS(R12), SI
	SYSCALL
	CHECK
nogroups:
	MOVQ	$SYS_setgid, AX
	MOVQ	REQ_GID(R12), DI
	SYSCALL
	CHECK
	MOVQ	$SYS_setuid, AX
	MOVQ	REQ_UID(R12), DI
	SYSCALL
	CHECK
nocred:
	CMPQ	REQ_DIR(R12), $0
	JEQ	nodir
	MOVQ	$SYS_chdir, AX
	MOVQ	REQ_DIR(R12), DI
	SYSCALL
	CHECK
nodir:
	CMPQ	REQ_NOFILE(R12), $0
	JEQ	nonofile
	MOVQ	$SYS_prlimit64, AX
	MOVQ	$0, DI
	MOVQ	$RLIMIT_NOFILE, SI
	MOVQ	REQ_NOFILE(R12), DX
	MOVQ	$0, R10
	SYSCALL
	CHECK
nonofile:
	MOVQ	$SYS_dup2, AX
	MOVQ	REQ_STDIN(R12), DI
	MOVQ	$0, SI
	SYSCALL
	CHECK
	MOVQ	$SYS_dup2, AX
	MOVQ	REQ_STDOUT(R12), DI
	MOVQ	$1, SI
	SYSCALL
	CHECK
	MOVQ	$SYS_dup2, AX
	MOVQ	REQ_STDOUT(R12), DI
	MOVQ	$2, SI
	SYSCALL
	CHECK

	RESTORE_MASK
	CHECK

	MOVQ	$SYS_execve, AX
	MOVQ	REQ_PATH(R12), DI
	MOVQ	REQ_ARGV(R12), SI
	MOVQ	REQ_ENVV(R12), DX
	SYSCALL

fail:
	NEGQ	AX
	MOVQ	AX, REQ_ERRNO(R12)
exit:
	MOVQ	$SYS_exit, AX
	MOVQ	$127, DI
	SYSCALL
	JMP	exit
