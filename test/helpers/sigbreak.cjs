// Preloaded (NODE_OPTIONS=--require) into a parley process by tests on Linux: SIGUSR2 there is
// told as the 'SIGBREAK' that Node emits on Windows for Ctrl+Break, which Linux cannot send.
process.on('SIGUSR2', () => process.emit('SIGBREAK', 'SIGBREAK'));
