"""The chat's modal screens: the passages retrieved (`retrieved`), the paths to index (`build`) and the
"New bot…" form (`bot_form`). Each returns what the user chose; acting on it is the app's part."""
