/* gst-fal: every element of the fal plugin through the state changes,
 * repeatedly (after gst-plugins-good tests/check/generic/states.c) */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>

static GList *elements = NULL;

static void
setup (void)
{
  GList *features, *f;

  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      "fal");
  for (f = features; f; f = f->next) {
    GstPluginFeature *feature = f->data;

    if (GST_IS_ELEMENT_FACTORY (feature))
      elements = g_list_prepend (elements,
          g_strdup (gst_plugin_feature_get_name (feature)));
  }
  gst_plugin_feature_list_free (features);
  elements = g_list_sort (elements, (GCompareFunc) g_strcmp0);
}

static void
teardown (void)
{
  g_list_free_full (elements, g_free);
  elements = NULL;
}

static GstElement *
element_new (const gchar * name)
{
  GstElement *element = gst_element_factory_make (name, name);

  fail_unless (element != NULL, "could not create %s", name);
  /* the embedded local server answers local/ applications */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "application"))
    g_object_set (element, "application", "local/echo", NULL);
  return element;
}

static void
check_state_change (GstElement * element, GstState state)
{
  GstStateChangeReturn ret = gst_element_set_state (element, state);

  fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s to %s failed",
      GST_ELEMENT_NAME (element), gst_element_state_get_name (state));
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (element, NULL, NULL, 60 * GST_SECOND);
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s to %s failed",
      GST_ELEMENT_NAME (element), gst_element_state_get_name (state));
}

GST_START_TEST (test_plugin_has_elements)
{
  static const gchar *expected[] = { "falfilter", "falinfer" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    fail_unless (g_list_find_custom (elements, expected[i],
            (GCompareFunc) g_strcmp0) != NULL, "%s missing", expected[i]);
}

GST_END_TEST;

GST_START_TEST (test_state_changes_up_and_down_seq)
{
  GList *e;

  for (e = elements; e; e = e->next) {
    GstElement *element = element_new (e->data);
    guint i;

    GST_DEBUG ("testing element %s", (gchar *) e->data);
    for (i = 0; i < 3; i++) {
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_NULL);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_NULL);
    }
    gst_object_unref (element);
  }
}

GST_END_TEST;

GST_START_TEST (test_state_changes_up_seq)
{
  GList *e;

  for (e = elements; e; e = e->next) {
    GstElement *element = element_new (e->data);
    guint i;

    for (i = 0; i < 3; i++) {
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_NULL);
    }
    gst_object_unref (element);
  }
}

GST_END_TEST;

GST_START_TEST (test_state_changes_down_seq)
{
  GList *e;

  for (e = elements; e; e = e->next) {
    GstElement *element = element_new (e->data);
    guint i;

    for (i = 0; i < 3; i++) {
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_READY);
      check_state_change (element, GST_STATE_PAUSED);
      check_state_change (element, GST_STATE_PLAYING);
      check_state_change (element, GST_STATE_NULL);
    }
    gst_object_unref (element);
  }
}

GST_END_TEST;

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_plugin_has_elements);
  tcase_add_test (tc, test_state_changes_up_and_down_seq);
  tcase_add_test (tc, test_state_changes_up_seq);
  tcase_add_test (tc, test_state_changes_down_seq);
  return s;
}

GST_CHECK_MAIN (states);
