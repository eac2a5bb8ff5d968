// Package childproc starts the programs of lvskit's test environments (see
// internal/testenv) so that they die with the process that started them.
package childproc
