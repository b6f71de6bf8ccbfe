package org.edgecpm.demo;

import android.content.Context;

/** Layout helpers shared by the screens (built in code: the app has no layout XML). */
final class Ui {
    private Ui() {}

    static int dp(Context context, int dp) {
        return Math.round(dp * context.getResources().getDisplayMetrics().density);
    }
}
