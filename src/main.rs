fn main() {
    // Debug builds and tests log a panic's message. The release build with the std built for
    // size never calls the hook: there a panic is a bare trap (xtask/src/lean_std.rs).
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(voicebip_console::app::App);
}
